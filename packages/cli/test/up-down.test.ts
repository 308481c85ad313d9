/**
 * `mseg up` then `mseg down` on this host with a layout of the test's own (temp dirs, a unique
 * capture namespace, free ports) and a stand-in Docker engine with no containers, so the agent
 * plumbs nothing of other tests. Checks the supervisor restarts a killed child and that `down`
 * leaves no process, namespace or run file behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pinDir } from '@mseg/agent/dist/plumbing/names.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, processesWithArg } from '../src/system/processes.js';
import { TestStack } from './helpers/stack.js';

const root = process.geteuid?.() === 0;
let stack: TestStack;
let docker: Server;
let flags: string[];
let netns: string;

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
const state = () => JSON.parse(readFileSync(join(stack.runDir, 'state.json'), 'utf8')) as { children: Record<string, { pid: number | null; state: string; restarts: number }> };

async function until<T>(what: string, f: () => T | null | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!root)('mseg up / down', () => {
  beforeAll(async () => {
    stack = new TestStack('mseg-up-');
    netns = `mseg-up-${process.pid}`;
    // A Docker engine with no containers: the list is empty and the event stream stays open.
    docker = createHttpServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/v[\d.]+/, '').split('?')[0];
      if (path === '/events') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(path === '/containers/json' ? '[]' : path === '/_ping' ? 'OK' : '{}');
    });
    await new Promise<void>((r) => docker.listen(join(stack.dir, 'docker.sock'), r));
    ({ flags } = await stack.upFlags(netns, join(stack.dir, 'docker.sock')));
  });

  afterAll(async () => {
    // Whatever the test got to, nothing of the stack may outlive it.
    docker?.closeAllConnections();
    await new Promise((r) => (docker ? docker.close(r) : r(undefined)));
    await stack?.remove([], [netns]);
  });

  it('starts the stack, restarts a killed child, and stops it leaving nothing behind', async () => {
    const up = await stack.mseg(['up', ...flags]);
    expect(up.err).toMatch(/✓ mseg up: running \(agent on .* online\)/);
    expect(up.code).toBe(0);
    expect(up.out).toMatch(/UI: +https:\/\/127\.0\.0\.1:\d+\//);
    const password = readFileSync(join(stack.dataDir, 'admin-password'), 'utf8').trim();
    expect(up.out).toContain(`admin login: admin / ${password}`);

    const supervisor = Number(readFileSync(join(stack.runDir, 'supervisor.pid'), 'utf8'));
    const first = state().children;
    expect(first.controller.state).toBe('running');
    expect(first.agent.state).toBe('running');
    await until('capture namespace', () => namespaces().includes(netns));
    // The agent starts the data plane on the stack's control socket.
    const [dp] = await until('data plane', () => {
      const found = processesWithArg(join(stack.runDir, 'dp.sock'));
      return found.length ? found : null;
    });

    // up again: finds the running stack, starts nothing new.
    const again = await stack.mseg(['up', ...flags]);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`supervisor pid ${supervisor}`);

    const status = JSON.parse((await stack.mseg(['status', '--json', '--run-dir', stack.runDir])).out);
    expect(status.components.map((c: { name: string; state: string }) => `${c.name}:${c.state}`)).toEqual(['supervisor:running', 'controller:running', 'agent:running', 'dp:running']);
    expect(status.ports.every((p: { listening: boolean }) => p.listening)).toBe(true);
    expect(status.controller.summary.agents).toEqual({ online: 1, total: 1 });
    // The agent's command line names the DP's socket too: status must show the DP's own pid.
    const dpShown = (status.components as { name: string; pid: number }[]).find((c) => c.name === 'dp')!.pid;
    expect(dpShown).not.toBe(first.agent.pid);
    expect(processesWithArg(join(stack.runDir, 'dp.sock'))).toContain(dpShown);

    const killed = first.controller.pid!;
    process.kill(killed, 'SIGKILL');
    const restarted = await until('controller restart', () => {
      const c = state().children.controller;
      return c.state === 'running' && c.pid !== killed && c.restarts === 1 ? c : null;
    });
    expect(alive(restarted.pid!)).toBe(true);

    const down = await stack.mseg(['down', '--run-dir', stack.runDir]);
    expect(down.err).toMatch(/✓ mseg down: stopped/);
    expect(down.code).toBe(0);
    expect(down.out).toBe(`stopped 1 process(es); removed namespace ${netns}; cleared nv- links, mirror filters and mseg tables in 0 container namespace(s)\n`);
    for (const pid of [supervisor, restarted.pid!, first.agent.pid!, dp]) expect(alive(pid)).toBe(false);
    expect(namespaces()).not.toContain(netns);
    expect(existsSync(pinDir(netns))).toBe(false);
    expect(processesWithArg(join(stack.runDir, 'dp.sock'))).toEqual([]);
    for (const f of ['up.json', 'state.json', 'supervisor.pid', 'controller.pid', 'agent.pid']) expect(existsSync(join(stack.runDir, f))).toBe(false);

    const after = await stack.mseg(['status', '--run-dir', stack.runDir]);
    expect(after.out).toMatch(/^no stack started from /);
  });
});
