import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer } from './control-server.js';
import { FrameDecoder, MAX_FRAME, encodeFrame } from './framing.js';
import type { AgentMessage } from './messages.js';

const dir = mkdtempSync(join(tmpdir(), 'mseg-ctl-'));
const path = join(dir, 'dp.sock');
const received: AgentMessage[] = [];
const logs: string[] = [];
const server = new ControlServer(path, {
  onMessage: (m, reply) => {
    received.push(m);
    reply({ type: 'ack', of: m.type });
  },
  log: (l) => logs.push(l),
});

beforeAll(() => server.listen());
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects, sends raw bytes, and collects decoded replies until the server closes or `want` arrive. */
function exchange(raw: Buffer, want: number): Promise<{ replies: Record<string, unknown>[]; closed: boolean }> {
  return new Promise((resolve) => {
    const sock: Socket = connect(path);
    const dec = new FrameDecoder();
    const replies: Record<string, unknown>[] = [];
    const done = (closed: boolean): void => {
      sock.destroy();
      resolve({ replies, closed });
    };
    sock.on('data', (d) => {
      for (const f of dec.push(d)) replies.push(JSON.parse(f.toString()));
      if (replies.length >= want) done(false);
    });
    sock.on('close', () => done(true));
    sock.write(raw);
  });
}

describe('control socket', () => {
  it('accepts schema-valid messages, split across writes or batched', async () => {
    const frames = Buffer.concat([
      encodeFrame({ type: 'keepalive', seq: 1 }),
      encodeFrame({ type: 'port_add', ifindex: 12, workloadId: 'w1', macs: ['4e:65:75:56:00:0c'], ips: ['10.0.0.5', 'fd00::5'] }),
    ]);
    const r = await exchange(frames, 2);
    expect(r.replies).toEqual([{ type: 'ack', of: 'keepalive' }, { type: 'ack', of: 'port_add' }]);
    expect(received.at(-1)).toMatchObject({ type: 'port_add', ifindex: 12 });
  });

  it('closes only the offending connection, naming the bad field', async () => {
    const bad = await exchange(encodeFrame({ type: 'port_add', ifindex: -3, workloadId: 'w', macs: [], ips: [] }), 1);
    expect(bad.replies[0]).toMatchObject({ type: 'error' });
    expect(String(bad.replies[0].reason)).toContain('ifindex');
    const unknown = await exchange(encodeFrame({ type: 'reboot' }), 1);
    expect(unknown.replies[0]).toMatchObject({ type: 'error' });
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
    expect((await exchange(notJson, 1)).replies[0]).toEqual({ type: 'error', reason: 'frame is not valid JSON' });
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME + 1);
    const big = await exchange(huge, 1);
    expect(String(big.replies[0].reason)).toMatch(/exceeds/);
    const ok = await exchange(encodeFrame({ type: 'keepalive', seq: 2 }), 1);
    expect(ok.replies).toEqual([{ type: 'ack', of: 'keepalive' }]);
    expect(logs.length).toBe(4);
  });

  it('refuses bad policy rules with the field named', async () => {
    const r = await exchange(encodeFrame({ type: 'policy_set', workloadId: 'w', mode: 'protect', rules: [{ id: 1, ports: 'tcp/70000', action: 'allow' }] }), 1);
    expect(String(r.replies[0].reason)).toContain('rules.0.ports');
  });
});
