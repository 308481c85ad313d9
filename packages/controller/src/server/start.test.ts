import { statSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabase } from '../testing/controller.js';
import type { ControllerOptions } from './context.js';
import { ADMIN_PASSWORD_FILE, startController, type RunningController } from './start.js';
import { tlsPaths } from './tls.js';

/** GET over HTTPS trusting nothing but accepting any certificate; returns status, body and the peer's certificate. */
function httpsGet(url: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startController', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function start(over: Partial<ControllerOptions> = {}, adminPassword?: string, dir?: string, db?: string) {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'mseg-start-'));
    if (!dir) cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let dbUrl = db;
    if (dbUrl === undefined) {
      const database = await testDatabase();
      cleanup.push(() => database.drop());
      dbUrl = database.url;
    }
    const logs: string[] = [];
    const options: ControllerOptions = { dataDir, apiPort: 0, grpcPort: 0, host: '127.0.0.1', noTls: false, ...(dbUrl ? { db: dbUrl } : {}), ...over };
    const c: RunningController = await startController(options, { adminPassword, log: (m) => logs.push(m) });
    return { c, logs, dataDir, db: dbUrl ?? '' };
  }

  it('serves HTTPS with a self-signed certificate made once and reused', async () => {
    const first = await start({}, 'first-admin-password');
    expect(first.c.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const paths = tlsPaths(first.dataDir);
    expect(statSync(paths.key).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(paths.cert));
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    const health = await httpsGet(`${first.c.apiUrl}/api/v1/health`);
    expect(health).toMatchObject({ status: 200, body: '{"status":"ok"}', fingerprint: cert.fingerprint256 });
    expect(first.logs.join('\n')).toContain('TLS certificate generated');
    expect(first.logs.join('\n')).toContain(cert.fingerprint256);
    await first.c.close();

    const second = await start({}, undefined, first.dataDir, first.db);
    cleanup.push(() => second.c.close());
    expect(second.logs.join('\n')).toContain('TLS certificate reused');
    expect((await httpsGet(`${second.c.apiUrl}/api/v1/health`)).fingerprint).toBe(cert.fingerprint256);
    // The first admin was made by the first start; the second made none and printed no password.
    expect(second.logs.join('\n')).not.toContain('first admin');
  });

  it('uses a given certificate and key', async () => {
    const made = await start({}, 'x-password');
    const paths = tlsPaths(made.dataDir);
    await made.c.close();
    const other = await start({ tlsCert: paths.cert, tlsKey: paths.key }, 'x-password');
    cleanup.push(() => other.c.close());
    expect(other.logs.join('\n')).toContain(`TLS certificate given: ${paths.cert}`);
    expect(existsSync(tlsPaths(other.dataDir).cert)).toBe(false);
    const fp = new X509Certificate(readFileSync(paths.cert)).fingerprint256;
    expect((await httpsGet(`${other.c.apiUrl}/api/v1/health`)).fingerprint).toBe(fp);
  });

  it('serves plain HTTP with --no-tls and prints a generated admin password once, saved 0600', async () => {
    const { c, logs, dataDir } = await start({ noTls: true });
    cleanup.push(() => c.close());
    expect(c.apiUrl).toMatch(/^http:\/\//);
    expect(existsSync(tlsPaths(dataDir).dir)).toBe(false);
    const file = join(dataDir, ADMIN_PASSWORD_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(logs.filter((l) => l.includes(password))).toHaveLength(1);
    const login = await fetch(`${c.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { role: string }).role).toBe('admin');
    expect(c.grpcPort).toBeGreaterThan(0);
  });

  it('takes the first admin password from the environment and prints none', async () => {
    const { c, logs, dataDir } = await start({ noTls: true }, 'from-env-password');
    cleanup.push(() => c.close());
    expect(existsSync(join(dataDir, ADMIN_PASSWORD_FILE))).toBe(false);
    expect(logs.join('\n')).not.toContain('from-env-password');
    const login = await fetch(`${c.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'from-env-password' }) });
    expect(login.status).toBe(200);
  });

  it('fails to start on a taken port and releases what it opened', async () => {
    const a = await start({ noTls: true }, 'p-password');
    cleanup.push(() => a.c.close());
    const port = Number(new URL(a.c.apiUrl).port);
    await expect(start({ noTls: true, apiPort: port }, 'p-password')).rejects.toThrow(/EADDRINUSE/);
  });
});
