/**
 * Two hosts on one machine (issue 6): two Docker engines of the test's own (own socket, data
 * root, exec root, pid file, bridge and address pool), `mseg up` on the first, and a second agent
 * with its own DP, capture namespace and host name (its own UTS namespace) on the second, both
 * reporting to the one controller. A client on host 1 calls a server on host 2 across the routed
 * bridges: the conversation appears once, merged from both agents' reports, with both workloads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoImage } from '../src/demo/image.js';
import { AGENT_BIN } from '../src/system/components.js';
import { processesWithArg } from '../src/system/processes.js';
import { startDockerd, type Dockerd } from './helpers/dockerd.js';
import { TestStack, until } from './helpers/stack.js';

const root = process.geteuid?.() === 0;
const HOST2 = `mseg-host2-${process.pid}`;

let stack: TestStack;
let hosts: Dockerd[] = [];
let agent2: ChildProcess | null = null;
let agent2Log = '';
const netns = [`mseg-h1-${process.pid}`, `mseg-h2-${process.pid}`];

const agent2Tail = () => `agent 2:\n${agent2Log.slice(-2000)}`;
const silent = { step: () => {}, done: () => {}, fail: () => {} };

describe.skipIf(!root)('two hosts on one machine', () => {
  beforeAll(async () => {
    stack = new TestStack('mseg-2h-');
    hosts = [await startDockerd(join(stack.dir, 'docker1')), await startDockerd(join(stack.dir, 'docker2'))];
  }, 120_000);

  afterAll(async () => {
    if (agent2 && agent2.exitCode === null && agent2.signalCode === null) {
      const exited = new Promise((r) => agent2!.once('exit', r));
      agent2.kill('SIGTERM');
      await exited;
    }
    if (stack) for (const pid of processesWithArg(join(stack.dir, 'host2', 'dp.sock'))) process.kill(pid, 'SIGKILL');
    await stack?.remove(hosts, netns);
  }, 120_000);

  it('a conversation between containers of two hosts appears once, merged, with both workloads', async () => {
    const [h1, h2] = hosts;
    const { flags, grpcPort } = await stack.upFlags(netns[0], h1.socket);
    const up = await stack.mseg(['up', ...flags]);
    expect(up.code, up.err).toBe(0);

    // Host 2's agent: same binary and join token, its own engine, DP socket, namespace and name.
    mkdirSync(join(stack.dir, 'host2'));
    const token = readFileSync(join(stack.dataDir, 'join-token'), 'utf8').trim();
    const argv = ['--controller', `127.0.0.1:${grpcPort}`, '--docker-socket', h2.socket, '--dp-socket', join(stack.dir, 'host2', 'dp.sock'), '--data-dir', join(stack.dir, 'host2'), '--capture-netns', netns[1]];
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
        const status = (await stack.mseg(['status', '--json', '--run-dir', stack.runDir])).out;
        const list = (JSON.parse(status) as { controller: { agents: { host: string; state: string }[] } }).controller.agents;
        return list.filter((x) => x.state === 'online').length === 2 && list;
      },
      60_000,
      agent2Tail,
    );
    expect(new Set(agents.map((a) => a.host)).size).toBe(2);
    expect(agents.map((a) => a.host)).toContain(HOST2);

    const conv = await until(
      'the cross-host conversation',
      async () => {
        const cs = await stack.items<{ clientWorkload: string; serverWorkload: string; serverPort: number; app: string; sessions: number }>(['connections', '--from', client, '--to', server]);
        return cs.length > 0 && cs;
      },
      60_000,
      agent2Tail,
    );
    expect(conv, JSON.stringify(conv, null, 1)).toHaveLength(1);
    expect(conv[0]).toMatchObject({ clientWorkload: client, serverWorkload: server, serverPort: 80, app: 'HTTP' });
    const ws = await stack.items<{ id: string; host: string }>(['workloads']);
    expect(ws.find((w) => w.id === server)?.host).toBe(HOST2);
    expect(ws.find((w) => w.id === client)?.host).not.toBe(HOST2);
  }, 10 * 60_000);
});
