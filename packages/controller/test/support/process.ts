/**
 * A real `mseg-controller` process (the built dist/main.js) for tests and benches that must cross a
 * process boundary: restarts after SIGKILL, replicas on one PostgreSQL, agents in another process.
 * Ports are 0 (the kernel picks free ones); the controller's start line says which it bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');

export interface ControllerProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:40123 */
  apiUrl: string;
  grpcPort: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals>;
  /** SIGTERM and wait; SIGKILL if it has not gone after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface SpawnOptions {
  dataDir: string;
  /** Store URL (postgres://…); the SQLite file in dataDir when absent. */
  db?: string;
  adminPassword: string;
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  startTimeoutMs?: number;
}

const READY = /REST API on (https?:\/\/\S+?)\/api\/v1 .*gRPC for agents on \S+:(\d+)/;

export function spawnController(o: SpawnOptions): Promise<ControllerProcess> {
  const args = [...(o.nodeArgs ?? []), MAIN, '--no-tls', '--host', '127.0.0.1', '--api-port', '0', '--grpc-port', '0', '--data-dir', o.dataDir];
  if (o.db) args.push('--db', o.db);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...o.env, MSEG_ADMIN_PASSWORD: o.adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? 0)));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      void kill();
      reject(new Error(`controller did not start within ${o.startTimeoutMs ?? 30_000} ms:\n${out}`));
    }, o.startTimeoutMs ?? 30_000);
    const check = () => {
      const m = READY.exec(out);
      if (!m) return;
      clearTimeout(timeout);
      child.stdout!.off('data', check);
      resolve({ child, apiUrl: m[1], grpcPort: Number(m[2]), output: () => out, exited, stop, kill });
    };
    child.stdout!.on('data', check);
    void exited.then((how) => {
      clearTimeout(timeout);
      reject(new Error(`controller exited (${how}) before it was ready:\n${out}`));
    });
  });
}

/** A REST client logged in as `username`, over real HTTP. */
export async function restClient(apiUrl: string, username: string, password: string) {
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, body: text };
  };
  const login = await call('POST', '/api/v1/auth/login', { username, password });
  if (login.status !== 200) throw new Error(`login of ${username} failed: ${login.status} ${login.body}`);
  const token = login.json.token as string;
  return (method: string, path: string, body?: unknown) => call(method, path, body, token);
}
