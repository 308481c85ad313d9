import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READER_PASSWORD, testController, type TestController } from '../testing/controller.js';
import { BODY_LIMIT } from './app.js';

type OpenApi = { paths: Record<string, Record<string, { security?: unknown[] }>> };

/** Every operation of the OpenAPI document as [method, concrete url]. */
function operations(doc: OpenApi): [string, string][] {
  const out: [string, string][] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) out.push([method.toUpperCase(), `/api/v1${path.replace(/^\/api\/v1/, '').replace(/\{[^}]+\}/g, 'x')}`]);
  }
  return out;
}

describe('REST application', () => {
  let t: TestController;
  let doc: OpenApi;
  beforeAll(async () => {
    t = await testController();
    doc = (await t.anon('GET', '/api/docs/json')).json;
  });
  afterAll(() => t.close());

  it('publishes an OpenAPI document listing the routes, with bearer security', async () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/health', '/api/v1/system/summary', '/api/v1/system/config', '/api/v1/agents', '/api/v1/workloads', '/api/v1/workloads/{id}', '/api/v1/events']),
    );
    expect(doc.paths['/api/v1/system/config']).toHaveProperty('patch');
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    const ui = await t.anon('GET', '/api/docs/');
    expect(ui.status).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('answers nothing but login and health without a token', async () => {
    const open: string[] = [];
    for (const [method, url] of operations(doc)) {
      const r = await t.anon(method, url, method === 'GET' || method === 'DELETE' ? undefined : {});
      if (r.status !== 401) open.push(`${method} ${url} ${r.status}`);
      else expect(r.json.error.code).toBe('MSEG_ERR_AUTH_REQUIRED');
    }
    expect(open.sort()).toEqual(['GET /api/v1/health 200', 'POST /api/v1/auth/login 400']);
    // Unknown paths under /api answer 401 too, so probing without a token learns nothing.
    expect((await t.anon('GET', '/api/v1/no-such-thing')).status).toBe(401);
    expect((await t.admin('GET', '/api/v1/no-such-thing')).json.error.code).toBe('MSEG_ERR_NOT_FOUND');
  });

  it('refuses malformed and unknown tokens', async () => {
    for (const authorization of ['Basic YWRtaW46eA==', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(43)}`]) {
      const r = await t.anon('GET', '/api/v1/system/config', undefined, { authorization });
      expect(r.status, authorization).toBe(401);
      expect(r.json.error.code).toBe('MSEG_ERR_AUTH_REQUIRED');
    }
    // A query token works only on the event stream.
    expect((await t.anon('GET', `/api/v1/system/config?token=${t.tokens.admin}`)).status).toBe(401);
  });

  it('gives a reader 403 on every change but logout', async () => {
    const allowed: string[] = [];
    // POSTs that only read: evaluating unsaved group criteria changes nothing.
    const readOnlyPosts = ['/api/v1/groups/preview'];
    for (const [method, url] of operations(doc)) {
      if (method === 'GET' || url.endsWith('/auth/login') || url.endsWith('/auth/logout') || readOnlyPosts.includes(url)) continue;
      const r = await t.reader(method, url, method === 'DELETE' ? undefined : {});
      if (r.status !== 403) allowed.push(`${method} ${url} ${r.status}`);
      else expect(r.json.error.code).toBe('MSEG_ERR_AUTH_FORBIDDEN');
    }
    expect(allowed).toEqual([]);
    // A reader may end its own session (a second one, so this file's reader token stays valid).
    const login = await t.anon('POST', '/api/v1/auth/login', { username: 'reader', password: READER_PASSWORD });
    const out = await t.anon('POST', '/api/v1/auth/logout', undefined, { authorization: `Bearer ${login.json.token}` });
    expect(out.status).toBe(204);
  });

  it('keeps CORS closed', async () => {
    const simple = await t.admin('GET', '/api/v1/system/config', undefined, { origin: 'https://evil.example' });
    expect(simple.status).toBe(200);
    const pre = await t.anon('OPTIONS', '/api/v1/system/config', undefined, {
      origin: 'https://evil.example',
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'authorization,content-type',
    });
    expect(pre.status).toBe(403);
    expect(pre.json.error.code).toBe('MSEG_ERR_CORS_REFUSED');
    for (const r of [simple, pre]) expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses a 10 MB body with 413 and a code, storing nothing', async () => {
    const big = JSON.stringify({ defaultMode: 'protect', pad: 'x'.repeat(10 * 1024 * 1024) });
    expect(big.length).toBeGreaterThan(BODY_LIMIT);
    const r = await t.admin('PATCH', '/api/v1/system/config', big, { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('MSEG_ERR_BODY_TOO_LARGE');
    expect((await t.admin('GET', '/api/v1/system/config')).json.defaultMode).toBe('monitor');
  });

  it.each([
    ['an unknown field', { defaultMode: 'protect', colour: 'red' }, 'body.colour', /unknown field/],
    ['an unknown nested field', { retention: { rawMinutes: 10, forever: true } }, 'body.retention.forever', /unknown field/],
    ['a number as text', { sessionHours: '12' }, 'body.sessionHours', /expected integer/],
    ['a wrong enum', { defaultMode: 'block' }, 'body.defaultMode', /must be one of monitor, protect/],
    ['an out-of-range number', { retention: { rawMinutes: 0 } }, 'body.retention.rawMinutes', /greater or equal to 5/],
    ['an array for an object', [], 'body', /expected object/],
  ])('answers 400 naming the field for %s, storing nothing', async (_name, body, field, message) => {
    const r = await t.admin('PATCH', '/api/v1/system/config', body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field });
    expect(r.json.error.message).toMatch(message);
    expect((await t.admin('GET', '/api/v1/system/config')).json).toMatchObject({ defaultMode: 'monitor', sessionHours: 12 });
  });

  it('names query fields and the body as a whole', async () => {
    for (const [url, field] of [
      ['/api/v1/workloads?limit=abc', 'query.limit'],
      ['/api/v1/workloads?limit=1001', 'query.limit'],
      ['/api/v1/workloads?offset=-1', 'query.offset'],
      ['/api/v1/workloads?colour=red', 'query.colour'],
      ['/api/v1/workloads?state=sleeping', 'query.state'],
    ]) {
      const r = await t.admin('GET', url);
      expect(r.status, url).toBe(400);
      expect(r.json.error.field, url).toBe(field);
    }
    const bad = await t.admin('PATCH', '/api/v1/system/config', '{"defaultMode":', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field: 'body' });
    const text = await t.admin('PATCH', '/api/v1/system/config', 'defaultMode=protect', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(text.status).toBe(415);
    expect(text.json.error.code).toBe('MSEG_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('marks API answers nosniff and not cacheable', async () => {
    const r = await t.admin('GET', '/api/v1/system/config');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('answers health without a token', async () => {
    expect(await t.anon('GET', '/api/v1/health')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });
});
