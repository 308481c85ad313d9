import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../auth/sessions.js';
import { ADMIN_PASSWORD, READER_PASSWORD, testController, type TestController } from '../testing/controller.js';
import { LOGIN_FAILURES_PER_WINDOW, LOGIN_WINDOW_MS } from './auth.js';

const HOUR = 3_600_000;

describe('auth routes', () => {
  let t: TestController;
  let now = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    t = await testController({ now: () => now });
  });
  afterAll(() => t.close());

  const login = (username: string, password: string, remoteAddress = '10.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });

  it('logs in and answers a token with its expiry and role', async () => {
    const r = await login('reader', READER_PASSWORD);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ role: 'reader', username: 'reader', expiresAt: now + 12 * HOUR });
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await t.anon('GET', '/api/v1/auth/me', undefined, { authorization: `Bearer ${body.token}` });
    expect(me.json).toEqual({ username: 'reader', role: 'reader' });
  });

  it('stores only the hash of a token and scrypt hashes of passwords', async () => {
    const rows = await t.ctx.store.db.selectFrom('sessions').select('token_hash').execute();
    const hashes = rows.map((r) => r.token_hash);
    expect(hashes).toContain(tokenHash(t.tokens.admin));
    expect(hashes).not.toContain(t.tokens.admin);
    const users = await t.ctx.store.db.selectFrom('users').select(['username', 'password_hash']).execute();
    for (const u of users) {
      expect(u.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
      expect(u.password_hash).not.toContain(u.username === 'admin' ? ADMIN_PASSWORD : READER_PASSWORD);
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const wrong = await login('admin', 'nope', '10.0.0.2');
    const unknown = await login('nobody', 'nope', '10.0.0.3');
    for (const r of [wrong, unknown]) {
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toEqual({ code: 'MSEG_ERR_AUTH_BAD_CREDENTIALS', message: 'wrong username or password' });
    }
  });

  it('treats SQL-looking usernames as data', async () => {
    for (const username of ["admin' --", "' OR '1'='1", 'admin"; drop table users; --']) {
      const r = await login(username, "' OR '1'='1", '10.0.0.4');
      expect(r.statusCode, username).toBe(401);
    }
    expect(await t.ctx.store.db.selectFrom('users').select('username').orderBy('username').execute()).toEqual([{ username: 'admin' }, { username: 'reader' }]);
  });

  it('ends a session at logout', async () => {
    const token = (await login('admin', ADMIN_PASSWORD)).json().token as string;
    const auth = { authorization: `Bearer ${token}` };
    expect((await t.anon('GET', '/api/v1/system/config', undefined, auth)).status).toBe(200);
    expect((await t.anon('POST', '/api/v1/auth/logout', undefined, auth)).status).toBe(204);
    const after = await t.anon('GET', '/api/v1/system/config', undefined, auth);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('MSEG_ERR_AUTH_REQUIRED');
    expect(await t.ctx.store.db.selectFrom('sessions').select('token_hash').where('token_hash', '=', tokenHash(token)).execute()).toEqual([]);
  });

  it('expires tokens after the configured lifetime', async () => {
    expect((await t.admin('PATCH', '/api/v1/system/config', { sessionHours: 2 })).status).toBe(200);
    const token = (await login('reader', READER_PASSWORD)).json().token as string;
    const auth = { authorization: `Bearer ${token}` };
    now += 2 * HOUR - 1;
    expect((await t.anon('GET', '/api/v1/auth/me', undefined, auth)).status).toBe(200);
    now += 1;
    const r = await t.anon('GET', '/api/v1/auth/me', undefined, auth);
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/expired/);
  });

  it('rate-limits failed logins per username, even from many addresses, also for the right password', async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_WINDOW; i++) expect((await login('admin', 'guess', `10.1.0.${i}`)).statusCode).toBe(401);
    const limited = await login('admin', ADMIN_PASSWORD, '10.1.1.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('MSEG_ERR_AUTH_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBe(LOGIN_WINDOW_MS / 1000);
    // Other users are not locked out by it.
    expect((await login('reader', READER_PASSWORD, '10.1.1.1')).statusCode).toBe(200);
    now += LOGIN_WINDOW_MS;
    expect((await login('admin', ADMIN_PASSWORD, '10.1.1.1')).statusCode).toBe(200);
  });

  it('rate-limits failed logins per client address across usernames', async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_WINDOW; i++) expect((await login(`user${i}`, 'guess', '10.2.0.1')).statusCode).toBe(401);
    expect((await login('reader', READER_PASSWORD, '10.2.0.1')).statusCode).toBe(429);
    expect((await login('reader', READER_PASSWORD, '10.2.0.2')).statusCode).toBe(200);
  });

  it.each([
    [{ username: 'admin' }, 'body.password'],
    [{ username: '', password: 'x' }, 'body.username'],
    [{ username: 'admin', password: 'x', role: 'admin' }, 'body.role'],
    [{ username: 7, password: 'x' }, 'body.username'],
  ])('validates the login body %j', async (payload, field) => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload, remoteAddress: '10.3.0.1' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe(field);
  });
});
