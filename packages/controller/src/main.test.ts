import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabase } from './testing/controller.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(pkg, 'dist', 'main.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(args: string[]) {
  return spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('mseg-controller', () => {
  it.each([
    [['--api-port', 'https'], "option '--api-port <n>' argument 'https' is invalid"],
    [['--grpc-port', '99999'], "option '--grpc-port <n>' argument '99999' is invalid"],
    [['--tls-key', 'k.pem'], 'option --tls-key needs --tls-cert'],
    [['--db', 'mongodb://x'], "option '--db <url>' argument 'mongodb://x' is invalid"],
    [['--verbose'], "unknown option '--verbose'"],
  ])('exits 2 on %j naming the flag', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`mseg-controller: ${message}`);
    expect(r.stdout).toBe('');
  });

  it('is the package bin and prints its flags', () => {
    const r = spawnSync(join(pkg, '..', '..', 'node_modules', '.bin', 'mseg-controller'), ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of ['--data-dir', '--api-port', '--grpc-port', '--no-tls', '--db', '--host', '--tls-cert', '--tls-key']) expect(r.stdout).toContain(flag);
  });

  it('starts, answers and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mseg-main-'));
    dirs.push(dataDir);
    const database = await testDatabase();
    try {
      const args = ['--no-tls', '--api-port', '0', '--grpc-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...(database.url ? ['--db', database.url] : [])];
      const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, MSEG_ADMIN_PASSWORD: 'env-admin-password' } });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /REST API on (http:\/\/[^ ]+)\/api\/v1/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        void exited.then(() => reject(new Error(`exited early: ${out}`)));
      });
      expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
      const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'env-admin-password' }) });
      expect(login.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('SIGTERM: stopping');
      await expect(fetch(`${url}/api/v1/health`)).rejects.toThrow();
    } finally {
      await database.drop();
    }
  });
});
