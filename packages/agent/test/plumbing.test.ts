// Plumbing against the real kernel, with namespaces standing in for containers: the mirror
// copies both directions of a container's traffic onto its nv-in port in the capture namespace;
// nothing mirrored reaches a third container; deleting leaves nothing of ours; an agent killed
// with SIGKILL in the middle of a reconcile leaves a state that one more reconcile makes exactly
// right (one pair, one filter per hook). The filters run the mirror program against the bypass map
// the base pins; nothing of it is left either.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bpfMapInfo, bpfObjGet, closeFd, type BpfMapInfo } from '@mseg/capture';
import { isBypassMap, PROGRAM_VERSION } from '@mseg/dp';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecRunner } from '../src/plumbing/command.js';
import { MIRROR_PREF } from '../src/plumbing/mirror-ops.js';
import { bypassMapPath, inName, pinDir } from '../src/plumbing/names.js';
import { Plumbing } from '../src/plumbing/plumbing.js';
import type { PlumbingWorkload } from '../src/plumbing/types.js';
import { inNs, sh, shAsync, TestNet, type FakeContainer } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const PORT = 7001;
const ECHO_SERVER = `require('node:net').createServer((s) => s.end('hello')).listen(Number(process.argv[1]), () => console.log('up'))`;
const CLIENT = `const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]); let d = ''; s.on('data', (b) => (d += b)); s.on('end', () => process.stdout.write(d)); setTimeout(() => process.exit(1), 3000).unref();`;
const DIST_PLUMBING = join(dirname(fileURLToPath(import.meta.url)), '../dist/plumbing/plumbing.js');

let net: TestNet;
let a: FakeContainer;
let b: FakeContainer;
let c: FakeContainer;

function workload(x: FakeContainer): PlumbingWorkload {
  return { id: x.id, netns: x.path, interfaces: [{ name: 'eth0', ifindex: x.ifindex, mac: x.mac, ips: [x.ip] }] };
}

function links(ns: string): string[] {
  return (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
}

/** Links of the namespace that have a master (a bridge). */
function masters(ns: string): string[] {
  return (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show'])) as { ifname: string; master?: string }[]).filter((l) => l.master).map((l) => `${l.ifname}@${l.master}`);
}

/** Filters on eth0 as tc lists them: hook, preference, kind, and a bpf filter's name and mode. */
function ourFilters(ns: string): string[] {
  const out: string[] = [];
  for (const hook of ['ingress', 'egress']) {
    let list: { pref: number; kind: string; options?: { bpf_name?: string; 'direct-action'?: boolean } }[] = [];
    const text = sh(inNs(ns, ['tc', '-j', 'filter', 'show', 'dev', 'eth0', hook])).trim();
    if (text) list = JSON.parse(text);
    for (const f of list) if (f.options) out.push(`${hook} ${f.pref} ${f.kind} ${f.options.bpf_name ?? ''}${f.options['direct-action'] ? ' da' : ''}`);
  }
  return out.sort();
}

/** What is pinned at the capture namespace's bypass map path. */
function pinnedMap(): BpfMapInfo {
  const fd = bpfObjGet(bypassMapPath(net.capture));
  try {
    return bpfMapInfo(fd);
  } finally {
    closeFd(fd);
  }
}

function index(ns: string, dev: string): number {
  return (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev])) as { ifindex: number }[])[0].ifindex;
}

/** The filters a plumbed container has: the tap's program on both hooks, named after map, nv-ex and nv-in. */
function mirrorFilters(x: FakeContainer): string[] {
  const map = pinnedMap().id;
  const name = `mseg_mirror v${PROGRAM_VERSION} map ${map} to ${index(x.ns, 'nv-ex-eth0')} port ${index(net.capture, inName(x.id, x.ifindex))}`;
  return [`egress ${MIRROR_PREF.egress} bpf ${name} da`, `ingress ${MIRROR_PREF.ingress} bpf ${name} da`];
}

/** Captures on a device for a while; returns tcpdump's lines (bounded by time and count). */
function capture(ns: string, dev: string, ms: number, filter: string[] = []): Promise<string[]> {
  return new Promise((resolve) => {
    const p = net.spawn(inNs(ns, ['timeout', String(ms / 1000), 'tcpdump', '-l', '-n', '-e', '-c', '500', '-i', dev, ...filter]));
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    // 'close', not 'exit': the last lines may still be in the pipe when the process ends.
    p.on('close', () => resolve(out.split('\n').filter((l) => l.trim())));
  });
}

describe.skipIf(!isRoot)('plumbing in the kernel', () => {
  beforeAll(() => {
    net = new TestNet();
    a = net.container(1);
    b = net.container(2);
    c = net.container(3);
  });
  afterAll(() => {
    net?.remove();
    expect(net.leftovers()).toEqual([]);
  });

  it('mirrors both directions onto the nv-in port; a third container sees none of it', async () => {
    const p = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
    p.setWorkloads([workload(a), workload(b), workload(c)]);
    await p.settle();
    expect(p.statuses().taps.map((s) => s.kind)).toEqual(['done', 'done', 'done']);
    expect(p.features).toEqual({ clsact: true, clsBpf: true });
    expect(isBypassMap(pinnedMap())).toBe(true);
    const portA = inName(a.id, a.ifindex);
    expect(links(net.capture)).toEqual(['lo', inName(b.id, b.ifindex), inName(c.id, c.ifindex), portA].sort());
    expect(ourFilters(a.ns)).toEqual(mirrorFilters(a));
    // The ports stand alone, and the capture namespace can neither forward nor speak IPv6.
    expect(masters(net.capture)).toEqual([]);
    expect(sh(inNs(net.capture, ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.all.disable_ipv6'])).trim().split('\n')).toEqual(['0', '0', '1']);
    expect(sh(['ip', '-n', net.capture, '-j', 'addr', 'show'])).not.toContain('"local"');

    const tcp = ['tcp', 'port', String(PORT)];
    const onPort = capture(net.capture, portA, 3000, tcp);
    const onC = capture(c.ns, 'eth0', 3000, tcp);
    const onCTap = capture(c.ns, 'nv-ex-eth0', 3000, tcp);
    const server = net.spawn(inNs(b.ns, [process.execPath, '-e', ECHO_SERVER, String(PORT)]));
    await new Promise((r) => server.stdout!.once('data', r));
    await new Promise((r) => setTimeout(r, 500));
    const reply = await shAsync(inNs(a.ns, [process.execPath, '-e', CLIENT, b.ip, String(PORT)]));
    expect(reply).toBe('hello');
    const [port, seenC, seenCTap] = await Promise.all([onPort, onC, onCTap]);
    // The SYN out and the SYN-ACK back both appear on a's port (tcpdump -e shows the frame).
    expect(port.filter((l) => l.includes(`${a.ip}.`) && l.includes(`> ${b.ip}.${PORT}: Flags [S]`)), port.join('\n')).toHaveLength(1);
    expect(port.filter((l) => l.includes(`${b.ip}.${PORT} > ${a.ip}.`) && l.includes('Flags [S.]')), port.join('\n')).toHaveLength(1);
    expect(seenC).toEqual([]);
    expect(seenCTap).toEqual([]);
  });

  it('after SIGKILL mid-reconcile, one more reconcile leaves exactly one correct set', async () => {
    const ws = [workload(a), workload(b)];
    // An agent that knows the taps removes them: each round starts from nothing of ours.
    const clean = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
    clean.setWorkloads(ws);
    await clean.settle();
    // A child agent prints each command and each netlink write once done, and pauses after a
    // write so that the kill lands before its next one; it is killed after the Nth write. Per tap
    // the writes are: pair made, container end set, port set, mirror; 1, 3 and 6 land after a bare
    // pair, before the mirror, and between the second pair and its port settings.
    for (const killAfter of [1, 3, 6]) {
      const script = `
        import { ExecRunner } from ${JSON.stringify(join(DIST_PLUMBING, '../command.js'))};
        import { NetlinkRtnl } from ${JSON.stringify(join(DIST_PLUMBING, '../netlink/netlink-rtnl.js'))};
        import { Plumbing } from ${JSON.stringify(DIST_PLUMBING)};
        const real = new ExecRunner();
        const runner = { run: (argv, o) => real.run(argv, o).then((out) => { process.stdout.write('ran ' + argv.join(' ') + '\\n'); return out; }) };
        const WRITES = new Set(['addVeth', 'setLink', 'delLink', 'addMirror', 'delFilters', 'delClsact']);
        const nl = new NetlinkRtnl();
        const rtnl = new Proxy(nl, {
          get: (t, k) => {
            const f = t[k];
            if (typeof f !== 'function') return f;
            if (!WRITES.has(k)) return f.bind(t);
            return async (...args) => {
              const out = await f.apply(t, args);
              process.stdout.write('ran ' + k + ' ' + JSON.stringify(args) + '\\n');
              await new Promise((r) => setTimeout(r, 200));
              return out;
            };
          },
        });
        const p = new Plumbing({ runner, rtnl, netnsName: ${JSON.stringify(net.capture)} });
        p.setWorkloads(${JSON.stringify(ws)});
        await p.settle();
      `;
      clean.setWorkloads([]);
      await clean.settle();
      expect(ourFilters(a.ns)).toEqual([]);
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let writes = 0;
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => {
          writes += d.toString().split('\n').filter((l) => l.startsWith('ran ') && !(l.includes(' sysctl ') && !l.includes(' -w ')) && (!l.includes(' -j ') || l.includes(' -batch ')) && !l.includes('nv-probe')).length;
          if (writes >= killAfter) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
      });
      expect(child.signalCode).toBe('SIGKILL');
      const again = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
      again.setWorkloads(ws);
      await again.settle();
      expect(again.statuses().taps.map((s) => s.kind)).toEqual(['done', 'done']);
      for (const x of [a, b]) {
        expect(ourFilters(x.ns)).toEqual(mirrorFilters(x));
        expect(links(x.ns).filter((l) => l.startsWith('nv-'))).toEqual(['nv-ex-eth0']);
      }
      expect(links(net.capture)).toEqual(['lo', inName(a.id, a.ifindex), inName(b.id, b.ifindex)].sort());
      expect(masters(net.capture)).toEqual([]);
      clean.setWorkloads(ws);
      await clean.settle();
    }
  });

  it('an earlier version’s nv-br, bridge table and u32 + mirred filters are replaced; a lost pin gets a new map, every filter follows', async () => {
    const ws = [workload(a), workload(b)];
    const first = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
    first.setWorkloads(ws);
    await first.settle();
    // What the earlier version kept: the ports on nv-br, behind a bridge drop table.
    sh(['ip', '-n', net.capture, 'link', 'add', 'nv-br', 'type', 'bridge']);
    for (const x of [a, b]) sh(['ip', '-n', net.capture, 'link', 'set', 'dev', inName(x.id, x.ifindex), 'master', 'nv-br']);
    sh(inNs(net.capture, ['nft', 'add table bridge mseg; add chain bridge mseg forward { type filter hook forward priority 0; policy drop; }']));
    for (const [hook, pref] of Object.entries(MIRROR_PREF)) {
      sh(inNs(a.ns, ['tc', 'filter', 'del', 'dev', 'eth0', hook, 'pref', String(pref)]));
      sh(inNs(a.ns, ['tc', 'filter', 'add', 'dev', 'eth0', hook, 'protocol', 'all', 'pref', String(pref), 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', 'nv-ex-eth0']));
    }
    expect(new Set(ourFilters(a.ns).map((f) => f.split(' ').slice(0, 3).join(' ')))).toEqual(new Set([`egress ${MIRROR_PREF.egress} u32`, `ingress ${MIRROR_PREF.ingress} u32`]));
    const oldMap = pinnedMap().id;
    rmSync(bypassMapPath(net.capture));
    const next = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
    next.setWorkloads(ws);
    await next.settle();
    expect(next.statuses().taps.map((s) => s.kind)).toEqual(['done', 'done']);
    expect(links(net.capture)).toEqual(['lo', inName(a.id, a.ifindex), inName(b.id, b.ifindex)].sort());
    expect(masters(net.capture)).toEqual([]);
    expect(sh(inNs(net.capture, ['nft', 'list', 'tables'])).trim()).toBe('');
    expect(pinnedMap().id).not.toBe(oldMap);
    for (const x of [a, b]) expect(ourFilters(x.ns)).toEqual(mirrorFilters(x));
  });

  it('deleting every tap and the base leaves nothing of ours', async () => {
    const p = new Plumbing({ runner: new ExecRunner(), netnsName: net.capture });
    p.setWorkloads([workload(a), workload(b), workload(c)]);
    await p.settle();
    expect(p.statuses().taps.map((s) => s.kind)).toEqual(['done', 'done', 'done']);
    p.setWorkloads([]);
    await p.settle();
    for (const x of [a, b, c]) {
      expect(ourFilters(x.ns)).toEqual([]);
      expect(sh(inNs(x.ns, ['tc', '-j', 'qdisc', 'show', 'dev', 'eth0']))).not.toContain('clsact');
      expect(links(x.ns)).toEqual(['eth0', 'lo']);
    }
    expect(links(net.capture)).toEqual(['lo']);
    p.base.setDesired([]);
    await p.base.settle();
    expect(sh(['ip', 'netns', 'list'])).not.toContain(net.capture);
    expect(existsSync(pinDir(net.capture))).toBe(false);
  });
});
