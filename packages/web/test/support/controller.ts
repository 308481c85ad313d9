/**
 * A real controller for the end-to-end test: the built bin (packages/controller/dist/main.js)
 * with --no-tls, a temp data dir and free ports, plus the users it cannot make through its API
 * (there is no user-management route: the reader is written with the controller's own
 * createUser into the same SQLite store, as an installer would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const MAIN = join(root, 'packages', 'controller', 'dist', 'main.js');

export const ADMIN_PASSWORD = 'e2e-admin-password';
export const READER_PASSWORD = 'e2e-reader-password';
export const JOIN_TOKEN = 'e2e-join-token-0123456789';

export interface RunningController {
  /** http://127.0.0.1:<port> */
  url: string;
  grpcUrl: string;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startController(): Promise<RunningController> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mseg-web-e2e-'));
  const [apiPort, grpcPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, '--no-tls', '--host', '127.0.0.1', '--api-port', String(apiPort), '--grpc-port', String(grpcPort), '--data-dir', dataDir],
    { env: { ...process.env, MSEG_ADMIN_PASSWORD: ADMIN_PASSWORD, MSEG_JOIN_TOKEN: JOIN_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`controller did not start within 30 s:\n${out}`)), 30_000);
      const poll = setInterval(() => {
        if (/REST API on /.test(out)) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 50);
      void exited.then(() => {
        clearInterval(poll);
        clearTimeout(deadline);
        reject(new Error(`controller exited early:\n${out}`));
      });
    });
    await addReader(dataDir);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${apiPort}`, grpcUrl: `http://127.0.0.1:${grpcPort}`, dataDir, output: () => out, stop };
}

async function addReader(dataDir: string): Promise<void> {
  // Imported at run time: the controller's dist is built by the test set-up, not at type-check time.
  const storeMod = join(root, 'packages', 'controller', 'dist', 'store', 'db.js');
  const usersMod = join(root, 'packages', 'controller', 'dist', 'auth', 'users.js');
  const { openStore } = (await import(storeMod)) as { openStore(url: string | undefined, dir: string): Promise<{ close(): Promise<void> }> };
  const { createUser } = (await import(usersMod)) as { createUser(ctx: unknown, name: string, password: string, role: 'reader'): Promise<unknown> };
  const store = await openStore(undefined, dataDir);
  try {
    await createUser({ store, now: Date.now }, 'reader', READER_PASSWORD, 'reader');
  } finally {
    await store.close();
  }
}

/** REST calls as a user, for seeding and for checking what the UI did. */
export class Rest {
  private constructor(private readonly url: string, private readonly token: string) {}

  static async login(url: string, username: string, password: string): Promise<Rest> {
    const r = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (r.status !== 200) throw new Error(`login of ${username}: ${r.status} ${await r.text()}`);
    return new Rest(url, ((await r.json()) as { token: string }).token);
  }

  // Answers of every shape are read field by field in the test.
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const r = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}
