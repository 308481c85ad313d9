/**
 * What the tests that bring a whole stack up share: a temp dir of the test's own, `mseg` run in
 * process with its own config dir, the flags that give `mseg up` that dir's run, log and data
 * dirs, a capture namespace and free ports, polling until something holds, and the cleanup that
 * leaves nothing behind whatever the test got to.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pinDir } from '@mseg/agent/dist/plumbing/names.js';
import { run } from '../../src/program.js';
import type { Dockerd } from './dockerd.js';

const exec = promisify(execFile);

export interface MsegResult {
  code: number;
  out: string;
  err: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Polls f every 500 ms until it returns a truthy value, for at most ms. Errors count as "not yet"
 * (a restarting controller refuses connections for a moment); the last one, and `context()`
 * (e.g. a process's log), are in the timeout's message.
 */
export async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms: number, context?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}${last ? ` (last error: ${String(last)})` : ''}${context ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export class TestStack {
  readonly dir: string;
  readonly runDir: string;
  readonly dataDir: string;

  /** A fresh temp dir named `<prefix>…`. */
  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.runDir = join(this.dir, 'run');
    this.dataDir = join(this.dir, 'data');
  }

  async mseg(args: string[]): Promise<MsegResult> {
    let out = '';
    let err = '';
    const code = await run(args, { io: { out: (t) => (out += t), err: (t) => (err += t), interactive: false }, env: { MSEG_CONFIG_DIR: join(this.dir, 'config') } });
    return { code, out, err };
  }

  /** A command that must succeed, its --json answer parsed. */
  async json<T>(args: string[]): Promise<T> {
    const r = await this.mseg([...args, '--json']);
    if (r.code !== 0) throw new Error(`mseg ${args.join(' ')}: ${r.code} ${r.err}`);
    return JSON.parse(r.out) as T;
  }

  /** A list command's items (up to 1,000). */
  async items<T>(args: string[]): Promise<T[]> {
    return (await this.json<{ items: T[] }>([...args, '--limit', '1000'])).items;
  }

  /** Flags for `mseg up`: this stack's dirs, capture namespace and free ports, watching the Docker engine at `dockerSocket`. */
  async upFlags(netns: string, dockerSocket: string): Promise<{ flags: string[]; grpcPort: number }> {
    const [apiPort, grpcPort] = [await freePort(), await freePort()];
    const flags = ['--run-dir', this.runDir, '--log-dir', join(this.dir, 'log'), '--data-dir', this.dataDir, '--netns', netns, '--host', '127.0.0.1'];
    flags.push('--api-port', String(apiPort), '--grpc-port', String(grpcPort), '--docker-socket', dockerSocket);
    return { flags, grpcPort };
  }

  /** `mseg down` if the stack is up, then the engines, the namespaces (and their pinned bpf objects) and the dir go; never throws. */
  async remove(engines: readonly (Dockerd | undefined)[], namespaces: readonly string[]): Promise<void> {
    if (existsSync(join(this.runDir, 'up.json'))) await this.mseg(['down', '--run-dir', this.runDir]).catch(() => undefined);
    for (const e of engines) await e?.stop();
    for (const ns of namespaces) {
      await exec('ip', ['netns', 'del', ns]).catch(() => '');
      rmSync(pinDir(ns), { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
