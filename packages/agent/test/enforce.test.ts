// Protect mode against the real kernel, namespaces standing in for containers: the table in the
// server's namespace lets the allowed port through and drops (and logs to NFLOG, read back as a
// deny record) another; a cut resets a live flow; a switch back to Monitor lets it through within
// a second and a switch to Protect keeps established allowed connections; a client in Protect
// blocks at its egress; and a table applied by an agent that is then killed goes on blocking.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleSpec } from '@mseg/dp';
import { Enforcer } from '../src/enforce/enforcer.js';
import type { DenyRecord, EnforceWorkload } from '../src/enforce/types.js';
import { ExecRunner } from '../src/plumbing/command.js';
import { inNs, sh, TestNet, waitFor, type FakeContainer } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const DIST_ENFORCER = join(dirname(fileURLToPath(import.meta.url)), '../dist/enforce/enforcer.js');
const ALLOWED = 80;
const OTHER = 8080;

/** Answers every line with "echo <line>" on each port in argv. */
const SERVER = `
const net = require('node:net');
for (const p of process.argv.slice(1)) net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write('echo ' + d)); }).listen(Number(p));
console.log('up');`;
/** One connection that says "ping" every 100 ms; prints "connected <local port>", "reply", "error <code>". */
const LONG_CLIENT = `
const s = require('node:net').connect(Number(process.argv[2]), process.argv[1], () => {
  console.log('connected ' + s.localPort);
  setInterval(() => s.write('ping\\n'), 100);
});
s.on('data', () => console.log('reply'));
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
s.on('end', () => { console.log('end'); process.exit(0); });
setTimeout(() => process.exit(2), 20000);`;
/** Connects once; prints "ok" on a reply, or "fail <code>" (timeout after 800 ms). */
const ONCE = `
const s = require('node:net').connect(Number(process.argv[2]), process.argv[1], () => s.write('hi\\n'));
s.on('data', () => { console.log('ok'); process.exit(0); });
s.on('error', (e) => { console.log('fail ' + e.code); process.exit(0); });
setTimeout(() => { console.log('fail timeout'); process.exit(0); }, 800);`;

let net: TestNet;
let cli: FakeContainer;
let srv: FakeContainer;
let enforcer: Enforcer | undefined;
const denies: DenyRecord[] = [];

function allow80(): RuleSpec[] {
  return [{ id: 11, from: [cli.ip], to: [srv.ip], ports: `tcp/${ALLOWED}`, apps: ['any'], action: 'allow' }];
}

function wl(x: FakeContainer, mode: 'monitor' | 'protect'): EnforceWorkload {
  return { workloadId: x.id, netns: x.path, ips: [x.ip], mode, rules: allow80() };
}

/** tcpdump processes in the namespace of x (its deny-log readers). */
function readersIn(x: FakeContainer): number[] {
  const ns = statSync(x.path).ino;
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'tcpdump' && statSync(`/proc/${d}/ns/net`).ino === ns) pids.push(Number(d));
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids;
}

async function connectOnce(port: number): Promise<string> {
  return new Promise((resolve) => {
    const p = net.spawn(inNs(cli.ns, [process.execPath, '-e', ONCE, srv.ip, String(port)]));
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => resolve(out.trim()));
  });
}

/** A long-lived client connection and what it has printed so far. */
async function longConnection(port: number): Promise<{ proc: ChildProcess; lines: string[]; localPort: number }> {
  const proc = net.spawn(inNs(cli.ns, [process.execPath, '-e', LONG_CLIENT, srv.ip, String(port)]));
  const lines: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  await waitFor('client connected', () => lines.some((l) => l.startsWith('connected ')));
  const localPort = Number(lines.find((l) => l.startsWith('connected '))!.split(' ')[1]);
  return { proc, lines, localPort };
}

function hasTable(x: FakeContainer): boolean {
  try {
    sh(inNs(x.ns, ['nft', 'list', 'table', 'inet', 'mseg']));
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)('Protect mode in the kernel', () => {
  beforeAll(async () => {
    net = new TestNet();
    cli = net.container(1);
    srv = net.container(2);
    const server = net.spawn(inNs(srv.ns, [process.execPath, '-e', SERVER, String(ALLOWED), String(OTHER)]));
    await new Promise((r) => server.stdout!.once('data', r));
    enforcer = new Enforcer({ runner: new ExecRunner(), onDeny: (d) => denies.push(d) });
    enforcer.start();
  });
  afterAll(async () => {
    await enforcer?.stop();
    net?.remove();
    expect(net.leftovers()).toEqual([]);
  });

  it('a server in Protect: the allowed port works, another is dropped and logged as a deny', async () => {
    expect(await connectOnce(OTHER)).toBe('ok');
    enforcer!.setWorkloads([wl(srv, 'protect'), wl(cli, 'monitor')]);
    await enforcer!.settle();
    expect(enforcer!.statuses().map((s) => s.kind)).toEqual(['done']);
    expect(hasTable(srv)).toBe(true);
    expect(hasTable(cli)).toBe(false);
    await enforcer!.denyLog.ready(srv.id);
    expect(await connectOnce(ALLOWED)).toBe('ok');
    expect(await connectOnce(OTHER)).toBe('fail timeout');
    await waitFor('deny record', () => denies.some((d) => d.dstPort === OTHER));
    expect(denies.find((d) => d.dstPort === OTHER)).toMatchObject({
      workloadId: srv.id, action: 'deny', ruleId: 0, direction: 'ingress', proto: 6, src: cli.ip, dst: srv.ip, dstPort: OTHER,
    });
    expect(denies.some((d) => d.dstPort === ALLOWED)).toBe(false);
  });

  it('re-applying the same policy changes nothing in the kernel', async () => {
    const before = sh(inNs(srv.ns, ['nft', '-a', 'list', 'table', 'inet', 'mseg']));
    enforcer!.tables.touch();
    await enforcer!.settle();
    expect(sh(inNs(srv.ns, ['nft', '-a', 'list', 'table', 'inet', 'mseg']))).toBe(before);
  });

  it('a cut resets a live allowed flow', async () => {
    const c = await longConnection(ALLOWED);
    await waitFor('replies', () => c.lines.filter((l) => l === 'reply').length >= 2);
    const cut = await enforcer!.cut({ workloadId: srv.id, client: cli.ip, server: srv.ip, clientPort: c.localPort, serverPort: ALLOWED, proto: 6 });
    expect(cut).toBe(true);
    const t0 = Date.now();
    await waitFor('reset', () => c.lines.includes('error ECONNRESET'), 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    // A new connection on the same port is still allowed.
    expect(await connectOnce(ALLOWED)).toBe('ok');
  });

  it('Monitor again within 1 s lets the other port through; Protect keeps established allowed flows', async () => {
    const c = await longConnection(ALLOWED);
    const t0 = Date.now();
    enforcer!.setWorkloads([wl(srv, 'monitor'), wl(cli, 'monitor')]);
    await waitFor('table removed', () => !hasTable(srv), 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await connectOnce(OTHER)).toBe('ok');

    enforcer!.setWorkloads([wl(srv, 'protect'), wl(cli, 'monitor')]);
    await waitFor('table back', () => hasTable(srv), 1000);
    const replies = c.lines.filter((l) => l === 'reply').length;
    await waitFor('replies after the switch', () => c.lines.filter((l) => l === 'reply').length >= replies + 3, 2000);
    expect(c.lines.some((l) => l.startsWith('error') || l === 'end')).toBe(false);
    c.proc.kill('SIGKILL');
    expect(await connectOnce(OTHER)).toBe('fail timeout');
  });

  it('a client in Protect blocks at its egress, logged as an egress deny', async () => {
    enforcer!.setWorkloads([wl(srv, 'monitor'), wl(cli, 'protect')]);
    await enforcer!.settle();
    await enforcer!.denyLog.ready(cli.id);
    expect(await connectOnce(ALLOWED)).toBe('ok');
    denies.length = 0;
    expect(await connectOnce(OTHER)).toBe('fail timeout');
    await waitFor('egress deny', () => denies.some((d) => d.workloadId === cli.id));
    expect(denies.find((d) => d.workloadId === cli.id)).toMatchObject({ direction: 'egress', ruleId: 0, src: cli.ip, dst: srv.ip, dstPort: OTHER });
    enforcer!.setWorkloads([wl(srv, 'monitor'), wl(cli, 'monitor')]);
    await enforcer!.settle();
    expect(hasTable(cli)).toBe(false);
  });

  it('with the agent process gone, the table goes on blocking', async () => {
    const script = `
      import { Enforcer } from ${JSON.stringify(DIST_ENFORCER)};
      import { ExecRunner } from ${JSON.stringify(join(DIST_ENFORCER, '../../plumbing/command.js'))};
      const e = new Enforcer({ runner: new ExecRunner(), onDeny: () => {} });
      e.setWorkloads(${JSON.stringify([wl(srv, 'protect')])});
      await e.settle();
      console.log('applied');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout!.once('data', r));
    await waitFor('the deny-log reader in the server namespace', () => readersIn(srv).length === 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    // The reader dies with its agent: left behind it would hold the namespace and, once the
    // agent restarts, double every deny.
    await waitFor('no deny-log reader left', () => readersIn(srv).length === 0, 3000);
    expect(await connectOnce(ALLOWED)).toBe('ok');
    expect(await connectOnce(OTHER)).toBe('fail timeout');
    sh(inNs(srv.ns, ['nft', 'delete', 'table', 'inet', 'mseg']));
  });
});
