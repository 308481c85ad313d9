/**
 * Two hosts on one machine (issue 6): two Docker engines of the test's own (own socket, data
 * root, exec root, pid file, bridge and address pool), `mseg up` on the first, and a second agent
 * with its own DP, capture namespace and host name (its own UTS namespace) on the second, both
 * reporting to the one controller. A client on host 1 calls a server on host 2 across the routed
 * bridges: the conversation appears once, merged from both agents' reports, with both workloads.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoImage } from '../src/demo/image.js';
import { run } from '../src/program.js';
import { AGENT_BIN } from '../src/system/components.js';
import { processesWithArg } from '../src/system/processes.js';
import { startDockerd, type Dockerd } from './helpers/dockerd.js';

const exec = promisify(execFile);
const root = process.geteuid?.() === 0;
const HOST2 = `mseg-host2-${process.pid}`;

let dir: string;
let hosts: Dockerd[] = [];
let agent2: ChildProcess | null = null;
let agent2Log = '';
const netns = [`mseg-h1-${process.pid}`, `mseg-h2-${process.pid}`];

async function mseg(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { io: { out: (t) => (out += t), err: (t) => (err += t), interactive: false }, env: { MSEG_CONFIG_DIR: join(dir, 'config') } });
  return { code, out, err };
}

async function items<T>(args: string[]): Promise<T[]> {
  const r = await mseg([...args, '--json', '--limit', '1000']);
  if (r.code !== 0) throw new Error(`mseg ${args.join(' ')}: ${r.err}`);
  return (JSON.parse(r.out) as { items: T[] }).items;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      // The controller may not answer every call while agents register.
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what} (${String(last)})\nagent 2:\n${agent2Log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const silent = { step: () => {}, done: () => {}, fail: () => {} };

describe.skipIf(!root)('two hosts on one machine', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mseg-2h-'));
    hosts = [await startDockerd(join(dir, 'docker1')), await startDockerd(join(dir, 'docker2'))];
  }, 120_000);

  afterAll(async () => {
    if (agent2 && agent2.exitCode === null && agent2.signalCode === null) {
      const exited = new Promise((r) => agent2!.once('exit', r));
      agent2.kill('SIGTERM');
      await exited;
    }
    for (const pid of processesWithArg(join(dir, 'host2', 'dp.sock'))) process.kill(pid, 'SIGKILL');
    if (existsSync(join(dir, 'run', 'up.json'))) await mseg(['down', '--run-dir', join(dir, 'run')]);
    for (const h of hosts) await h.stop();
    for (const ns of netns) await exec('ip', ['netns', 'del', ns]).catch(() => '');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('a conversation between containers of two hosts appears once, merged, with both workloads', async () => {
    const [h1, h2] = hosts;
    const flags = ['--run-dir', join(dir, 'run'), '--log-dir', join(dir, 'log'), '--data-dir', join(dir, 'data'), '--netns', netns[0], '--host', '127.0.0.1'];
    const grpcPort = await freePort();
    flags.push('--api-port', String(await freePort()), '--grpc-port', String(grpcPort), '--docker-socket', h1.socket);
    const up = await mseg(['up', ...flags]);
    expect(up.code, up.err).toBe(0);

    // Host 2's agent: same binary and join token, its own engine, DP socket, namespace and name.
    mkdirSync(join(dir, 'host2'));
    const token = readFileSync(join(dir, 'data', 'join-token'), 'utf8').trim();
    const argv = ['--controller', `127.0.0.1:${grpcPort}`, '--docker-socket', h2.socket, '--dp-socket', join(dir, 'host2', 'dp.sock'), '--data-dir', join(dir, 'host2'), '--capture-netns', netns[1]];
    agent2 = spawn('unshare', ['--uts', 'sh', '-c', `hostname ${HOST2} && exec "$0" "$@"`, process.execPath, AGENT_BIN(), ...argv], {
      env: { PATH: process.env.PATH, MSEG_JOIN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [agent2.stdout!, agent2.stderr!]) s.setEncoding('utf8').on('data', (d: string) => (agent2Log += d));

    const [image] = await Promise.all(hosts.map((h) => ensureDemoImage(h.socket, silent)));
    const server = await h2.docker('run', '-d', '--name', 'h2-server', '--label', 'mseg.service=h2-server', image, 'python3', '-m', 'http.server', '80');
    const serverIp = await h2.docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', server);
    const client = await h1.docker('run', '-d', '--name', 'h1-client', '--label', 'mseg.service=h1-client', image, 'sh', '-c', `while true; do curl -s -o /dev/null -m 2 http://${serverIp}/; sleep 1; done`);

    const agents = await until(
      'two agents online',
      async () => {
        const status = (await mseg(['status', '--json', '--run-dir', join(dir, 'run')])).out;
        const list = (JSON.parse(status) as { controller: { agents: { host: string; state: string }[] } }).controller.agents;
        return list.filter((x) => x.state === 'online').length === 2 && list;
      },
      60_000,
    );
    expect(new Set(agents.map((a) => a.host)).size).toBe(2);
    expect(agents.map((a) => a.host)).toContain(HOST2);

    const conv = await until(
      'the cross-host conversation',
      async () => {
        const cs = await items<{ clientWorkload: string; serverWorkload: string; serverPort: number; app: string; sessions: number }>(['connections', '--from', client, '--to', server]);
        return cs.length > 0 && cs;
      },
      60_000,
    );
    expect(conv, JSON.stringify(conv, null, 1)).toHaveLength(1);
    expect(conv[0]).toMatchObject({ clientWorkload: client, serverWorkload: server, serverPort: 80, app: 'HTTP' });
    const ws = await items<{ id: string; host: string }>(['workloads']);
    expect(ws.find((w) => w.id === server)?.host).toBe(HOST2);
    expect(ws.find((w) => w.id === client)?.host).not.toBe(HOST2);
  }, 10 * 60_000);
});
