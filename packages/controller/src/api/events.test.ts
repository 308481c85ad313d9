import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_MS } from './events.js';
import { READER_PASSWORD, testController, type TestController } from '../testing/controller.js';

/** Reads an SSE response until `done(text so far)` holds, or fails after a few seconds. */
async function readUntil(res: Response, done: (text: string) => boolean): Promise<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const deadline = Date.now() + 5000;
  while (!done(text)) {
    if (Date.now() > deadline) throw new Error(`stream never matched; got ${JSON.stringify(text)}`);
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

describe('event stream', () => {
  let t: TestController;
  let base: string;
  beforeAll(async () => {
    t = await testController();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(() => t.close());

  it('relays bus events with a query token (EventSource cannot set headers)', async () => {
    const res = await fetch(`${base}/events?token=${t.tokens.reader}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reading = readUntil(res, (s) => s.includes('event: threats'));
    // Emitted after the stream has subscribed: the first comment line arrives before any event.
    await new Promise((r) => setTimeout(r, 50));
    t.ctx.events.emit('policy', { revision: 7 });
    t.ctx.events.emit('threats', { count: 2 });
    const text = await reading;
    expect(text).toContain(': connected\n\n');
    expect(text).toContain('event: policy\ndata: {"revision":7}\n\n');
    expect(text).toContain('event: threats\ndata: {"count":2}\n\n');
  });

  it('accepts the bearer header and filters by event name', async () => {
    const res = await fetch(`${base}/events?events=config,agents`, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
    expect(res.status).toBe(200);
    const reading = readUntil(res, (s) => s.includes('event: agents'));
    await new Promise((r) => setTimeout(r, 50));
    t.ctx.events.emit('policy', { revision: 8 });
    t.ctx.events.emit('agents', { agentId: 'a1', state: 'online' });
    const text = await reading;
    expect(text).not.toContain('event: policy');
    expect(text).toContain('event: agents\ndata: {"agentId":"a1","state":"online"}');
  });

  it('refuses a missing or bad token and unknown event names', async () => {
    expect((await fetch(`${base}/events`)).status).toBe(401);
    expect((await fetch(`${base}/events?token=not-a-token`)).status).toBe(401);
    const bad = await fetch(`${base}/events?events=policy,nope`, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('query.events');
  });

  it('lets go of its bus listeners when the client leaves', async () => {
    const listeners = () => (t.ctx.events as unknown as { emitter: { listenerCount(n: string): number } }).emitter.listenerCount('violations');
    const res = await fetch(`${base}/events?token=${t.tokens.reader}&events=violations`);
    const reader = res.body!.getReader();
    await reader.read();
    expect(listeners()).toBe(1);
    await reader.cancel();
    for (let i = 0; i < 50 && listeners() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(listeners()).toBe(0);
  });

  it('sends a heartbeat comment every 15 s and ends the stream once its session is logged out', async () => {
    const login = await t.anon('POST', '/api/v1/auth/login', { username: 'reader', password: READER_PASSWORD });
    const token = login.json.token as string;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const res = await fetch(`${base}/events?token=${token}`);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      expect((await reader.read()).value).toBe(': connected\n\n');
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect((await reader.read()).value).toBe(': heartbeat\n\n');
      expect((await t.anon('POST', '/api/v1/auth/logout', undefined, { authorization: `Bearer ${token}` })).status).toBe(204);
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect((await reader.read()).done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends open streams when the server closes, so closing does not hang', async () => {
    const other = await testController();
    await other.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (other.app.server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/events?token=${other.tokens.reader}`);
    const reader = res.body!.getReader();
    await reader.read();
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await reader.read()).done).toBe(true);
  });
});
