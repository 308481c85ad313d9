import { KEY_SIZE, MAP_ENTRIES, MAP_NAME, MAP_TYPE_HASH, PROGRAM_VERSION } from '@mseg/dp';
import { describe, expect, it } from 'vitest';
import { FakeKernel, isWrite } from '../testing/fake-kernel.js';
import { MIRROR_PREF } from './mirror-ops.js';
import { neuvMac } from './names.js';
import { Plumbing } from './plumbing.js';
import type { PlumbingWorkload } from './types.js';

const CAP = '/run/netns/mseg';
const A = '/proc/101/ns/net';
const B = '/proc/202/ns/net';
const PIN = '/sys/fs/bpf/mseg/bypass';

/** The name our filters carry for a tap: program version, map id, nv-ex and nv-in ifindexes. */
function mirrorName(k: FakeKernel, path: string, inName: string): string {
  const ex = k.ns.get(path)!.links.get('nv-ex-eth0')!.ifindex;
  const port = k.ns.get(CAP)!.links.get(inName)!.ifindex;
  return `mseg_mirror v${PROGRAM_VERSION} map ${k.pins.get(PIN)} to ${ex} port ${port}`;
}

function plumbing(k: FakeKernel): Plumbing {
  return new Plumbing({ runner: k, rtnl: k, bpf: k, netnsName: 'mseg' });
}

function setup(): { k: FakeKernel; p: Plumbing; workloads: PlumbingWorkload[]; ready: Map<string, number> } {
  const k = new FakeKernel();
  for (const path of [A, B]) {
    k.addNetns(path);
    k.addLink(path, 'eth0', 'other', 5);
  }
  const workloads: PlumbingWorkload[] = [
    { id: 'aaaaaaaaaaaa1111', netns: A, interfaces: [{ name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:02', ips: ['172.17.0.2'] }] },
    { id: 'bbbbbbbbbbbb2222', netns: B, interfaces: [{ name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:03', ips: ['172.17.0.3'] }] },
  ];
  const ready = new Map<string, number>();
  const p = new Plumbing({ runner: k, rtnl: k, bpf: k, netnsName: 'mseg', onReady: (t, ifindex) => ready.set(t.inName, ifindex) });
  return { k, p, workloads, ready };
}

function assertPlumbed(k: FakeKernel, path: string, inName: string): void {
  const cap = k.ns.get(CAP)!;
  const inn = cap.links.get(inName)!;
  const ex = k.ns.get(path)!.links.get('nv-ex-eth0')!;
  expect(inn.peer).toEqual({ netns: path, ifname: 'nv-ex-eth0' });
  expect(inn.master).toBeUndefined();
  expect(inn.address).toBe(neuvMac(inn.ifindex));
  expect(ex.address).toBe(neuvMac(inn.ifindex));
  expect([inn.up, ex.up, inn.addrgen, ex.addrgen]).toEqual([true, true, 'none', 'none']);
  const filters = k.ns.get(path)!.filters;
  const name = mirrorName(k, path, inName);
  expect(name).toContain(` to ${ex.ifindex} port ${inn.ifindex}`);
  expect(filters.map((f) => `${f.dev} ${f.hook} ${f.pref} ${f.kind} ${f.name}`).sort()).toEqual([
    `eth0 egress ${MIRROR_PREF.egress} bpf ${name}`,
    `eth0 ingress ${MIRROR_PREF.ingress} bpf ${name}`,
  ]);
  // Filters hold their programs: no program descriptor is left open.
  expect(k.openFds().filter((f) => !f.startsWith('map '))).toEqual([]);
}

describe('plumbing reconcile', () => {
  it('first apply builds the namespace (no forwarding, no IPv6) and the pinned map, pairs and mirrors in order', async () => {
    const { k, p, workloads, ready } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    expect(p.features).toEqual({ clsact: true, clsBpf: true });
    const w = k.writes().filter((l) => !l.includes('nv-probe'));
    expect(w.slice(0, 6)).toEqual([
      'ip netns add mseg',
      'mount -t bpf bpf /sys/fs/bpf',
      'bpf: mkdir /sys/fs/bpf/mseg',
      `bpf: create map ${MAP_NAME}`,
      `bpf: pin 1 ${PIN}`,
      // IPv4 forwarding came from the host; IPv6 forwarding was off already.
      `nsenter --net=${CAP} -- sysctl -q -w net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1`,
    ]);
    expect(Object.fromEntries(k.ns.get(CAP)!.sysctl)).toEqual({ 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0', 'net.ipv6.conf.all.disable_ipv6': '1' });
    expect(w.filter((l) => l.startsWith(`rtnl ${A}:`))).toEqual([
      `rtnl ${A}: link add nv-ex-eth0 type veth peer name nv-in-aaaaaaaa5 netns ${CAP}`,
      expect.stringMatching(new RegExp(`^rtnl ${A}: link set nv-ex-eth0 address 4e:65:75:56:00:[0-9a-f]{2} addrgenmode none up$`)),
      `rtnl ${A}: qdisc add dev eth0 clsact; ` +
        `filter add dev eth0 ingress pref ${MIRROR_PREF.ingress} bpf "${mirrorName(k, A, 'nv-in-aaaaaaaa5')}"; ` +
        `filter add dev eth0 egress pref ${MIRROR_PREF.egress} bpf "${mirrorName(k, A, 'nv-in-aaaaaaaa5')}"`,
    ]);
    expect(k.openFds()).toEqual([`map ${MAP_NAME} 1`]);
    expect(k.bpfObjects.get(1)).toEqual({ kind: 'map', info: { id: 1, type: MAP_TYPE_HASH, keySize: KEY_SIZE, valueSize: 16, maxEntries: MAP_ENTRIES, name: MAP_NAME } });
    expect(w.filter((l) => l.startsWith(`rtnl ${CAP}:`) && l.includes('nv-in-aaaaaaaa5'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^rtnl ${CAP}: link set nv-in-aaaaaaaa5 address 4e:65:75:56:00:[0-9a-f]{2} addrgenmode none up$`,
        ),
      ),
    ]);
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
    assertPlumbed(k, B, 'nv-in-bbbbbbbb5');
    expect(ready.get('nv-in-aaaaaaaa5')).toBe(k.ns.get(CAP)!.links.get('nv-in-aaaaaaaa5')!.ifindex);
    expect(p.statuses().taps.map((s) => s.kind)).toEqual(['done', 'done']);
    // The probe pair is gone again; the ports stand alone.
    expect([...k.ns.get(CAP)!.links.keys()].sort()).toEqual(['lo', 'nv-in-aaaaaaaa5', 'nv-in-bbbbbbbb5']);
  });

  it('re-apply on a correct kernel only reads', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    const before = k.log.length;
    p.base.touch();
    p.taps.touch();
    await p.settle();
    const again = k.log.slice(before);
    expect(again.length).toBeGreaterThan(0);
    expect(again.filter(isWrite)).toEqual([]);
  });

  it('a fresh agent adopts what exists: no writes when the kernel is already right', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    const before = k.log.length;
    const p2 = plumbing(k);
    p2.setWorkloads(workloads);
    await p2.settle();
    // Only the feature probe writes (in the capture namespace, on nv-probe links); the pinned map is adopted.
    expect(k.log.slice(before).filter((l) => isWrite(l) && !l.includes('nv-probe'))).toEqual([]);
    expect(k.pins.get(PIN)).toBe(1);
  });

  it('partial state is repaired: lost filter, duplicate filter, a port down and on a bridge, broken pair', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    const a = k.ns.get(A)!;
    a.filters = a.filters.filter((f) => f.hook !== 'egress');
    a.filters.push({ ...a.filters[0] });
    k.addLink(CAP, 'br-other', 'bridge');
    Object.assign(k.ns.get(CAP)!.links.get('nv-in-bbbbbbbb5')!, { master: 'br-other', up: false });
    const before = k.log.length;
    p.taps.touch();
    await p.settle();
    // Taps are repaired concurrently: the order holds per namespace, not across them.
    const w = k.log.slice(before).filter(isWrite);
    const name = mirrorName(k, A, 'nv-in-aaaaaaaa5');
    expect(w.filter((l) => l.startsWith(`rtnl ${A}:`))).toEqual([
      `rtnl ${A}: filter del dev eth0 ingress pref ${MIRROR_PREF.ingress}`,
      `rtnl ${A}: filter add dev eth0 ingress pref ${MIRROR_PREF.ingress} bpf "${name}"; filter add dev eth0 egress pref ${MIRROR_PREF.egress} bpf "${name}"`,
    ]);
    expect(w.filter((l) => !l.startsWith(`rtnl ${A}:`))).toEqual([
      `rtnl ${CAP}: link set nv-in-bbbbbbbb5 nomaster up`,
    ]);
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
    assertPlumbed(k, B, 'nv-in-bbbbbbbb5');

    // The nv-in end vanished (someone deleted it): the whole pair is made anew and the mirror
    // re-pointed even though the filter's device name did not change.
    k.ns.get(CAP)!.links.delete('nv-in-aaaaaaaa5');
    p.taps.touch();
    await p.settle();
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
  });

  it('a removed workload is deleted; prune removes orphans with our prefixes only', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    k.addLink(CAP, 'nv-in-orphan1', 'veth');
    k.addLink(CAP, 'dp-own0');
    k.addLink(A, 'nv-ex-old');
    k.addLink(A, 'eth1');
    k.ns.get(A)!.clsact.add('eth1');
    k.ns.get(A)!.filters.push({ dev: 'eth1', hook: 'ingress', pref: MIRROR_PREF.ingress, kind: 'bpf', name: 'mseg_mirror v1 map 1 to 99 port 98' });
    p.setWorkloads([workloads[0]]);
    await p.settle();
    // Workload B's tap is deleted; its container keeps its eth0 but loses our filters and qdisc.
    expect(k.ns.get(B)!.filters).toEqual([]);
    expect(k.ns.get(B)!.clsact.size).toBe(0);
    expect(k.ns.get(B)!.links.has('nv-ex-eth0')).toBe(false);
    // A prune (at the first pass of a fresh reconciler) clears orphans and nothing else.
    const p2 = plumbing(k);
    p2.setWorkloads([workloads[0]]);
    const before = k.log.length;
    await p2.settle();
    const w = k.log.slice(before).filter((l) => isWrite(l) && !l.includes('nv-probe'));
    expect(w.sort()).toEqual(
      [
        `rtnl ${A}: filter del dev eth1 ingress pref ${MIRROR_PREF.ingress}`,
        `rtnl ${A}: filter del dev eth1 egress pref ${MIRROR_PREF.egress}`,
        `rtnl ${A}: qdisc del dev eth1 clsact`,
        `rtnl ${A}: link del nv-ex-old`,
        `rtnl ${CAP}: link del nv-in-orphan1`,
      ].sort(),
    );
    expect([...k.ns.get(CAP)!.links.keys()].sort()).toEqual(['dp-own0', 'lo', 'nv-in-aaaaaaaa5']);
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
  });

  it('prune also clears a known container that is no longer monitored (left by an earlier run)', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    // A fresh agent that monitors only A but knows B's namespace (B is, say, host-network now).
    const p2 = plumbing(k);
    p2.setWorkloads([workloads[0]], [B]);
    await p2.settle();
    expect(k.ns.get(B)!.filters).toEqual([]);
    expect(k.ns.get(B)!.clsact.size).toBe(0);
    expect([...k.ns.get(B)!.links.keys()].sort()).toEqual(['eth0', 'lo']);
    expect([...k.ns.get(CAP)!.links.keys()].sort()).toEqual(['lo', 'nv-in-aaaaaaaa5']);
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
  });

  it('an earlier version’s bridge nv-br and its bridge table are orphans: removed, its ports adopted standalone', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    // What an earlier version left: every port on nv-br, a bridge drop table, forwarding on.
    k.addLink(CAP, 'nv-br', 'bridge');
    for (const l of k.ns.get(CAP)!.links.values()) if (l.ifname.startsWith('nv-in-')) l.master = 'nv-br';
    k.ns.get(CAP)!.nft.set('bridge mseg', 'table bridge mseg {}\ndelete table bridge mseg\ntable bridge mseg {\n}\n');
    k.ns.get(CAP)!.sysctl.set('net.ipv4.ip_forward', '1');
    const p2 = plumbing(k);
    p2.setWorkloads(workloads);
    const before = k.log.length;
    await p2.settle();
    // The ports were released with the bridge: nothing else to write for them.
    expect(k.log.slice(before).filter((l) => isWrite(l) && !l.includes('nv-probe'))).toEqual([
      `nsenter --net=${CAP} -- ip link del nv-br`,
      `nsenter --net=${CAP} -- nft delete table bridge mseg`,
      `nsenter --net=${CAP} -- sysctl -q -w net.ipv4.ip_forward=0`,
    ]);
    expect(k.ns.get(CAP)!.nft.size).toBe(0);
    expect([...k.ns.get(CAP)!.links.keys()].sort()).toEqual(['lo', 'nv-in-aaaaaaaa5', 'nv-in-bbbbbbbb5']);
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
    assertPlumbed(k, B, 'nv-in-bbbbbbbb5');
  });

  it('an earlier version’s u32 + mirred filters, and programs of another map, are replaced by the tap’s program', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    const a = k.ns.get(A)!;
    a.filters = [
      { dev: 'eth0', hook: 'ingress', pref: MIRROR_PREF.ingress, kind: 'u32' },
      { dev: 'eth0', hook: 'egress', pref: MIRROR_PREF.egress, kind: 'u32' },
    ];
    const b = k.ns.get(B)!;
    b.filters = b.filters.map((f) => ({ ...f, name: f.name!.replace(/ map \d+ /, ' map 77 ') }));
    const before = k.log.length;
    p.taps.touch();
    await p.settle();
    const w = k.log.slice(before).filter(isWrite);
    for (const [path, inName] of [[A, 'nv-in-aaaaaaaa5'], [B, 'nv-in-bbbbbbbb5']]) {
      const name = mirrorName(k, path, inName);
      expect(w.filter((l) => l.startsWith(`rtnl ${path}:`))).toEqual([
        `rtnl ${path}: filter del dev eth0 ingress pref ${MIRROR_PREF.ingress}`,
        `rtnl ${path}: filter del dev eth0 egress pref ${MIRROR_PREF.egress}`,
        `rtnl ${path}: filter add dev eth0 ingress pref ${MIRROR_PREF.ingress} bpf "${name}"; filter add dev eth0 egress pref ${MIRROR_PREF.egress} bpf "${name}"`,
      ]);
      assertPlumbed(k, path, inName);
    }
  });

  it('a pin removed behind the agent’s back: a new map is pinned and every filter re-pointed at it', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    k.remove('/sys/fs/bpf/mseg');
    p.base.touch();
    await p.settle();
    expect(k.pins.get(PIN)).toBeGreaterThan(1);
    // The base being done again looks at every tap: their names carry the new map's id.
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
    assertPlumbed(k, B, 'nv-in-bbbbbbbb5');
  });

  it('a pinned map of another layout, or a program at the path, is replaced; a mounted bpffs is not mounted again', async () => {
    for (const pinned of ['map', 'prog'] as const) {
      const { k, p, workloads } = setup();
      k.bpffs = true;
      k.mkdir('/sys/fs/bpf/mseg');
      const fd = pinned === 'map' ? k.mapCreate(MAP_TYPE_HASH, KEY_SIZE, 8, 1024, MAP_NAME) : k.progLoad(3, new Uint8Array(8), 'GPL', 'other');
      k.objPin(fd, PIN);
      k.close(fd);
      const before = k.log.length;
      p.setWorkloads(workloads);
      await p.settle();
      const w = k.log.slice(before).filter((l) => isWrite(l) && !l.includes('nv-probe') && !l.startsWith('rtnl '));
      expect(w.slice(0, 4)).toEqual(['ip netns add mseg', `bpf: remove ${PIN}`, `bpf: create map ${MAP_NAME}`, `bpf: pin 2 ${PIN}`]);
      assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
    }
  });

  it('deleting the base removes the namespace and the pins, and closes the map', async () => {
    const { k, p, workloads } = setup();
    p.setWorkloads(workloads);
    await p.settle();
    p.setWorkloads([]);
    await p.settle();
    p.base.setDesired([]);
    await p.base.settle();
    expect(k.ns.has(CAP)).toBe(false);
    expect([...k.pins.keys(), ...k.bpfDirs]).toEqual([]);
    expect(k.openFds()).toEqual([]);
  });

  it('a kernel refusing the mirror program is a terminal error on the base', async () => {
    const { k, p, workloads } = setup();
    k.failures.set('bpf: load', 'EINVAL');
    p.setWorkloads(workloads);
    await p.settle();
    expect(p.statuses().base[0]).toMatchObject({ kind: 'error', terminal: true, message: expect.stringMatching(/^kernel refuses the mirror program: load mseg_mirror/) });
    expect(p.statuses().taps.map((s) => s.kind)).toEqual(['pending', 'pending']);
  });

  it('a missing kernel feature is a terminal error on the base; taps wait, nothing is retried', async () => {
    const { k, p, workloads } = setup();
    k.failures.set(`nsenter --net=${CAP} -- tc filter add dev nv-probe0 ingress protocol all pref 1 bpf`, 'Error: TC classifier not found.');
    p.setWorkloads(workloads);
    await p.settle();
    const base = p.statuses().base[0];
    expect(base).toMatchObject({ kind: 'error', terminal: true, message: 'kernel lacks cls_bpf: traffic cannot be mirrored' });
    expect(p.statuses().taps.map((s) => [s.kind, s.message])).toEqual([
      ['pending', 'waiting: capture namespace error: kernel lacks cls_bpf: traffic cannot be mirrored'],
      ['pending', 'waiting: capture namespace error: kernel lacks cls_bpf: traffic cannot be mirrored'],
    ]);
    const before = k.log.length;
    await p.settle();
    expect(k.log.length).toBe(before);
  });

  it('a failing step is retried with backoff and reported until it succeeds', async () => {
    const { k, p, workloads } = setup();
    k.failures.set(`rtnl ${A}: qdisc add`, 'something transient');
    p.setWorkloads(workloads);
    await p.settle();
    const a = p.statuses().taps.find((s) => s.key === 'nv-in-aaaaaaaa5')!;
    expect(a).toMatchObject({ kind: 'error', terminal: false, failures: 1 });
    expect(a.message).toContain('something transient');
    k.failures.clear();
    await new Promise((r) => setTimeout(r, 120));
    await p.settle();
    expect(p.statuses().taps.find((s) => s.key === 'nv-in-aaaaaaaa5')).toMatchObject({ kind: 'done', failures: 0 });
    assertPlumbed(k, A, 'nv-in-aaaaaaaa5');
  });
});
