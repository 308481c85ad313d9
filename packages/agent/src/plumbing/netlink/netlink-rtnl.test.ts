// NetlinkRtnl against the real kernel, in throw-away namespaces of this run: what it makes is read
// back with `ip`/`tc`/`nft` (the reference), and what they make is read by it.
import { KEY_SIZE, MAP_NAME, MAP_TYPE_HASH, VALUE_SIZE } from '@mseg/dp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, sh, TestNet, type FakeContainer } from '../../../test/helpers/netns.js';
import { SysBpf } from '../bpf.js';
import { BpfMirrorPrograms } from '../mirror-programs.js';
import { NetlinkRtnl, isNetlinkGone } from './netlink-rtnl.js';

const isRoot = process.getuid?.() === 0;

interface IpLink {
  ifname: string;
  ifindex: number;
  link_index?: number;
  address: string;
  master?: string;
  flags: string[];
  inet6_addr_gen_mode?: string;
}

describe.skipIf(!isRoot)('netlink rtnl in the kernel', () => {
  let net: TestNet;
  let c: FakeContainer;
  let cap: string;
  const k = new NetlinkRtnl();
  const bpf = new SysBpf();
  // An unpinned map is enough for the program to load against; it goes when its descriptor does.
  let mapFd = -1;
  const ipLink = (ns: string, dev: string): IpLink => (JSON.parse(sh(['ip', '-n', ns, '-j', '-d', 'link', 'show', 'dev', dev])) as IpLink[])[0];

  beforeAll(() => {
    net = new TestNet();
    c = net.container(1);
    sh(['ip', 'netns', 'add', net.capture]);
    cap = `/run/netns/${net.capture}`;
    sh(['ip', '-n', net.capture, 'link', 'add', 'nv-br', 'type', 'bridge']);
    mapFd = bpf.mapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, 16, MAP_NAME);
  });

  afterAll(() => {
    if (mapFd >= 0) bpf.close(mapFd);
    net?.remove();
    expect(net.leftovers()).toEqual([]);
  });

  it('makes a veth pair across namespaces, fixes both ends, reads them as ip does', async () => {
    const ex = await k.addVeth(c.path, 'nv-ex-eth0', 'nv-in-t1', cap);
    const inn = ipLink(net.capture, 'nv-in-t1');
    expect(ex).toMatchObject({ ifname: 'nv-ex-eth0', ifindex: ipLink(c.ns, 'nv-ex-eth0').ifindex, peerIndex: inn.ifindex, kind: 'veth', up: false, type: 1 });
    await expect(k.addVeth(c.path, 'nv-ex-eth0', 'nv-in-t2', cap)).rejects.toThrow(/link add nv-ex-eth0 type veth peer nv-in-t2: EEXIST/);

    // A port some bridge holds (an earlier version's nv-br) is read with its master, and released.
    sh(['ip', '-n', net.capture, 'link', 'set', 'dev', 'nv-in-t1', 'master', 'nv-br']);
    const br = await k.link(cap, 'nv-br');
    expect(br).toMatchObject({ kind: 'bridge', addrgenNone: false });
    expect(await k.link(cap, 'nv-in-t1')).toMatchObject({ masterIndex: br!.ifindex });
    await k.setLink(cap, 'nv-in-t1', { noMaster: true, address: '4e:65:75:56:00:2a', addrgenNone: true, up: true });
    await k.setLink(c.path, 'nv-ex-eth0', { address: '4e:65:75:56:00:2a', addrgenNone: true, up: true });
    const got = ipLink(net.capture, 'nv-in-t1');
    expect(got).toMatchObject({ address: '4e:65:75:56:00:2a', inet6_addr_gen_mode: 'none' });
    expect(got.master).toBeUndefined();
    expect(got.flags).toContain('UP');
    expect(ipLink(c.ns, 'nv-ex-eth0')).toMatchObject({ address: '4e:65:75:56:00:2a', inet6_addr_gen_mode: 'none' });

    const read = await k.link(cap, 'nv-in-t1');
    expect(read).toMatchObject({ ifindex: got.ifindex, peerIndex: ex.ifindex, address: '4e:65:75:56:00:2a', up: true, addrgenNone: true, kind: 'veth' });
    expect(read!.masterIndex).toBeUndefined();
    expect((await k.links(c.path)).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo', 'nv-ex-eth0']);
  });

  it('reads addresses as ip -j addr lists them', async () => {
    sh(['ip', '-n', c.ns, 'addr', 'add', 'fd00:233::5/64', 'dev', 'eth0']);
    const addrs = await k.addresses(c.path);
    expect(addrs).toContainEqual({ ifindex: c.ifindex, address: c.ip, scope: 0 });
    expect(addrs).toContainEqual({ ifindex: c.ifindex, address: 'fd00:233::5', scope: 0 });
    expect(addrs).toContainEqual({ ifindex: 1, address: '127.0.0.1', scope: 254 });
  });

  it('puts the clsact mirror in as tc does, lists and deletes it', async () => {
    const ex = (await k.link(c.path, 'nv-ex-eth0'))!;
    const eth0 = c.ifindex;
    const programs = new BpfMirrorPrograms(bpf, () => ({ fd: mapFd, id: bpf.mapInfo(mapFd).id, path: '' }));
    expect(await k.hasClsact(c.path, eth0)).toBe(false);
    expect(await k.filters(c.path, eth0, 'ingress')).toEqual([]);
    const prog = programs.load(ex.ifindex, 42);
    try {
      await k.addMirror(c.path, eth0, true, [{ hook: 'ingress', pref: 7 }, { hook: 'egress', pref: 8 }], prog);
    } finally {
      programs.close(prog.fd);
    }
    expect(prog.name).toMatch(new RegExp(`^mseg_mirror v\\d+ map \\d+ to ${ex.ifindex} port 42$`));
    expect(await k.hasClsact(c.path, eth0)).toBe(true);
    for (const [hook, pref] of [['ingress', 7], ['egress', 8]] as const) {
      // The filters hold the program: our descriptor is closed, tc still shows it running.
      const shown = sh(inNs(c.ns, ['tc', '-s', 'filter', 'show', 'dev', 'eth0', hook])).split('\n').filter((l) => l.includes('handle'));
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain(`filter protocol all pref ${pref} bpf`);
      expect(shown[0]).toContain(`${prog.name} direct-action`);
      expect(shown[0]).toContain('name mseg_mirror tag');
      const listed = await k.filters(c.path, eth0, hook);
      expect(listed.filter((f) => !f.table)).toEqual([{ pref, table: false, kind: 'bpf', name: prog.name }]);
    }
    // An earlier version's u32 + mirred filter is told apart by its kind.
    sh(inNs(c.ns, ['tc', 'filter', 'add', 'dev', 'eth0', 'ingress', 'protocol', 'all', 'pref', '9', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', 'nv-ex-eth0']));
    expect((await k.filters(c.path, eth0, 'ingress')).filter((f) => f.pref === 9 && !f.table)).toEqual([{ pref: 9, table: false, kind: 'u32' }]);
    await k.delFilters(c.path, eth0, 'ingress', 9);
    await k.delFilters(c.path, eth0, 'ingress', 7);
    await k.delFilters(c.path, eth0, 'ingress', 7);
    expect(await k.filters(c.path, eth0, 'ingress')).toEqual([]);
    await k.delClsact(c.path, eth0);
    await k.delClsact(c.path, eth0);
    expect(sh(inNs(c.ns, ['tc', '-j', 'qdisc', 'show', 'dev', 'eth0']))).not.toContain('clsact');
    expect(await k.filters(c.path, eth0, 'egress')).toEqual([]);
    // A device that is not there: deletes are done, the add fails as gone.
    await k.delFilters(c.path, 999, 'ingress', 7);
    await k.delClsact(c.path, 999);
    const again = programs.load(ex.ifindex, 42);
    try {
      expect(isNetlinkGone(await k.addMirror(c.path, 999, true, [{ hook: 'ingress', pref: 7 }], again).catch((e: unknown) => e))).toBe(true);
    } finally {
      programs.close(again.fd);
    }
  });

  it('tells whether an nftables table exists', async () => {
    expect(await k.hasNftTable(c.path, 'inet', 'mseg')).toBe(false);
    sh(inNs(c.ns, ['nft', 'add', 'table', 'inet', 'mseg']));
    expect(await k.hasNftTable(c.path, 'inet', 'mseg')).toBe(true);
    expect(await k.hasNftTable(c.path, 'bridge', 'mseg')).toBe(false);
  });

  it('missing links and namespaces: null, done deletes, gone errors', async () => {
    expect(await k.link(c.path, 'nv-none')).toBeNull();
    await k.delLink(c.path, 'nv-none');
    await k.delLink(c.path, 'nv-ex-eth0');
    expect(await k.link(cap, 'nv-in-t1')).toBeNull();
    const err = await k.links(`/run/netns/${net.prefix}-none`).catch((e: unknown) => e);
    expect(isNetlinkGone(err)).toBe(true);
    expect(String(err)).toMatch(/ENOENT/);
  });
});
