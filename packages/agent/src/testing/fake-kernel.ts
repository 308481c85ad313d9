/**
 * A fake kernel for unit tests: a small model of namespaces, links, addresses, clsact qdiscs, tc
 * filters, nftables tables and bpf objects (maps, programs, pins, open descriptors). As a command runner it understands exactly the commands the agent
 * issues and answers reads in the kernel's JSON shapes; as an Rtnl it does what the netlink
 * operations do; as a Bpf what bpf(2) and the bpf filesystem do. It records every command and
 * operation (`rtnl <netns>: …`, `bpf: …`), so tests assert op
 * sequences. Unknown commands throw: a new command shape must be modelled before it can be tested.
 */
import { constants } from 'node:os';
import type { Bpf, BpfMapInfo } from '../plumbing/bpf.js';
import { CommandError, type CommandRunner, type RunOptions } from '../plumbing/command.js';
import { BPFFS } from '../plumbing/names.js';
import type { Address, Filter, Hook, Link, LinkChange, Rtnl } from '../plumbing/netlink/rtnl.js';
import { NetlinkError } from '../plumbing/netlink/transport.js';

const { EBADF, EEXIST, EINVAL, ENODEV, ENOENT } = constants.errno;

export interface FakeLink {
  ifname: string;
  ifindex: number;
  kind: 'veth' | 'bridge' | 'other';
  peer?: { netns: string; ifname: string };
  address: string;
  master?: string;
  up: boolean;
  addrgen: string;
}

export interface FakeFilter {
  dev: string;
  hook: string;
  pref: number;
  /** Ours are bpf; an earlier version's were u32 (+ mirred). */
  kind: 'bpf' | 'u32';
  /** A bpf filter's name (TCA_BPF_NAME). */
  name?: string;
}

/** A bpf map or program; alive while a pin, a descriptor or a filter holds it (the model never frees one). */
export type FakeBpfObject = { kind: 'map'; info: BpfMapInfo } | { kind: 'prog'; name: string };

export interface FakeNs {
  links: Map<string, FakeLink>;
  clsact: Set<string>;
  filters: FakeFilter[];
  /** table "family name" → the script that made it. */
  nft: Map<string, string>;
  addresses: { dev: string; address: string; scope: number }[];
  /** sysctl key → value. */
  sysctl: Map<string, string>;
}

/** A new namespace here: IPv4 forwarding inherited from the host (where dockerd turned it on), IPv6 on. */
const NETNS_SYSCTL: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.ipv6.conf.all.forwarding', '0'],
  ['net.ipv6.conf.all.disable_ipv6', '0'],
];

export class FakeKernel implements CommandRunner, Rtnl, Bpf {
  readonly ns = new Map<string, FakeNs>();
  /** The bpf filesystem: mounted at BPFFS or not, its directories, and its pins (path → object id). */
  bpffs = false;
  readonly bpfDirs = new Set<string>();
  readonly pins = new Map<string, number>();
  readonly bpfObjects = new Map<number, FakeBpfObject>();
  /** Open descriptors of this "process": fd → object id. */
  readonly fds = new Map<number, number>();
  private nextBpfId = 1;
  private nextFd = 20;
  readonly log: string[] = [];
  private nextIndex = 2;
  /** Commands (matched by prefix of the joined line) that fail with this stderr. */
  readonly failures = new Map<string, string>();

  addNetns(path: string): FakeNs {
    const n: FakeNs = { links: new Map(), clsact: new Set(), filters: [], nft: new Map(), addresses: [], sysctl: new Map(NETNS_SYSCTL) };
    n.links.set('lo', this.newLink('lo', 'other'));
    this.ns.set(path, n);
    return n;
  }

  /** `ifindex`: a chosen index (tests that name taps after it), else the next free one. */
  addLink(path: string, name: string, kind: FakeLink['kind'] = 'other', ifindex?: number): FakeLink {
    const l = this.newLink(name, kind);
    if (ifindex !== undefined) l.ifindex = ifindex;
    this.get(path).links.set(name, l);
    return l;
  }

  addAddress(path: string, dev: string, address: string, scope = 0): void {
    this.get(path).addresses.push({ dev, address, scope });
  }

  /** Commands that changed something (everything but reads). */
  writes(): string[] {
    // Every read the agent issues asks for JSON; a batch that makes a link prints it with -j too.
    return this.log.filter(isWrite);
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
    const line = argv.join(' ');
    const lines = options.input?.split('\n').filter((l) => l.trim()) ?? [];
    // Batches are logged with their commands (what they do matters); scripts by their size.
    if (argv.includes('-batch')) this.log.push(`${line}: ${lines.join('; ')}`);
    else this.log.push(options.input !== undefined ? `${line} <<${lines.length} lines` : line);
    for (const [prefix, stderr] of this.failures) if (line.startsWith(prefix)) throw new CommandError(argv, 1, stderr);
    let path = 'host';
    let args = [...argv];
    if (args[0] === 'nsenter') {
      path = args[1].slice('--net='.length);
      args = args.slice(3);
    }
    if (path !== 'host' && !this.ns.has(path)) throw new CommandError(argv, 1, `nsenter: cannot open ${path}: No such file or directory`);
    return this.exec(path, args, argv, options.input);
  }

  async links(netns: string): Promise<Link[]> {
    const n = this.op(netns, 'dump links');
    return [...n.links.values()].map((l) => this.toLink(netns, l));
  }

  async link(netns: string, name: string): Promise<Link | null> {
    const l = this.op(netns, `get link ${name}`).links.get(name);
    return l ? this.toLink(netns, l) : null;
  }

  async addresses(netns: string): Promise<Address[]> {
    const n = this.op(netns, 'dump addresses');
    return n.addresses.flatMap((a) => {
      const l = n.links.get(a.dev);
      return l ? [{ ifindex: l.ifindex, address: a.address, scope: a.scope }] : [];
    });
  }

  async addVeth(netns: string, name: string, peer: string, peerNetns: string): Promise<Link> {
    const n = this.op(netns, `link add ${name} type veth peer name ${peer} netns ${peerNetns}`);
    const pn = this.ns.get(peerNetns) ?? nlFail(`link add ${name}`, ENOENT, `no namespace ${peerNetns}`);
    if (n.links.has(name) || pn.links.has(peer)) nlFail(`link add ${name}`, EEXIST, '');
    const l = this.addLink(netns, name, 'veth');
    const p = this.addLink(peerNetns, peer, 'veth');
    l.peer = { netns: peerNetns, ifname: peer };
    p.peer = { netns, ifname: name };
    return this.toLink(netns, l);
  }

  async setLink(netns: string, name: string, c: LinkChange): Promise<void> {
    const words = [
      ...(c.noMaster ? ['nomaster'] : []),
      ...(c.address ? ['address', c.address] : []),
      ...(c.addrgenNone ? ['addrgenmode', 'none'] : []),
      ...(c.up ? ['up'] : []),
    ];
    const n = this.op(netns, `link set ${name} ${words.join(' ')}`);
    const l = n.links.get(name) ?? nlFail(`link set ${name}`, ENODEV, '');
    if (c.noMaster) delete l.master;
    if (c.address) l.address = c.address;
    if (c.addrgenNone) l.addrgen = 'none';
    if (c.up) l.up = true;
  }

  async delLink(netns: string, name: string): Promise<void> {
    const n = this.ns.get(netns);
    this.op(netns, `link del ${name}`, true);
    const l = n?.links.get(name);
    if (l) this.removeLink(netns, l);
  }

  async hasClsact(netns: string, ifindex: number): Promise<boolean> {
    const dev = this.devName(netns, ifindex);
    const n = this.op(netns, `get qdiscs ${dev}`);
    return n.clsact.has(dev);
  }

  async filters(netns: string, ifindex: number, hook: Hook): Promise<Filter[]> {
    const dev = this.devName(netns, ifindex);
    const n = this.op(netns, `dump filters ${dev} ${hook}`);
    const mine = n.filters.filter((f) => f.dev === dev && f.hook === hook);
    // Like the kernel: one entry per preference, then its filters.
    const out: Filter[] = [...new Map(mine.map((f) => [f.pref, f.kind])).entries()].map(([pref, kind]) => ({ pref, table: true, kind }));
    for (const f of mine) out.push({ pref: f.pref, table: false, kind: f.kind, ...(f.name !== undefined ? { name: f.name } : {}) });
    return out;
  }

  async addMirror(netns: string, ifindex: number, clsact: boolean, hooks: readonly { hook: Hook; pref: number }[], prog: { fd: number; name: string }): Promise<void> {
    const dev = this.devName(netns, ifindex);
    const steps = [...(clsact ? [`qdisc add dev ${dev} clsact`] : []), ...hooks.map((h) => `filter add dev ${dev} ${h.hook} pref ${h.pref} bpf "${prog.name}"`)];
    const n = this.op(netns, steps.join('; '));
    if (!n.links.has(dev)) nlFail(steps[0], ENODEV, 'Cannot find device');
    const held = this.fds.get(prog.fd);
    if (held === undefined || this.bpfObjects.get(held)?.kind !== 'prog') nlFail(steps[0], EBADF, 'not an open program');
    // Like the kernel, every request of the exchange is tried; the first refusal is reported.
    let failed: NetlinkError | null = null;
    if (clsact && n.clsact.has(dev)) failed = new NetlinkError(`qdisc add ${dev} clsact`, EEXIST, 'Exclusivity flag on, cannot modify.');
    if (clsact) n.clsact.add(dev);
    for (const h of hooks) {
      if (!n.clsact.has(dev)) failed ??= new NetlinkError(`filter add ${dev}`, EINVAL, "Parent Qdisc doesn't exists");
      else n.filters.push({ dev, hook: h.hook, pref: h.pref, kind: 'bpf', name: prog.name });
    }
    if (failed) throw failed;
  }

  async delFilters(netns: string, ifindex: number, hook: Hook, pref: number): Promise<void> {
    const dev = this.devName(netns, ifindex);
    const n = this.op(netns, `filter del dev ${dev} ${hook} pref ${pref}`, true);
    if (n) n.filters = n.filters.filter((f) => !(f.dev === dev && f.hook === hook && f.pref === pref));
  }

  async delClsact(netns: string, ifindex: number): Promise<void> {
    const dev = this.devName(netns, ifindex);
    const n = this.op(netns, `qdisc del dev ${dev} clsact`, true);
    if (n?.clsact.delete(dev)) n.filters = n.filters.filter((f) => f.dev !== dev);
  }

  async hasNftTable(netns: string, family: string, name: string): Promise<boolean> {
    return this.op(netns, `get nft table ${family} ${name}`).nft.has(`${family} ${name}`);
  }

  isBpfFs(path: string): boolean {
    return this.bpffs && (path === BPFFS || path.startsWith(`${BPFFS}/`));
  }

  objGet(path: string): number | null {
    this.bpfOp(`get ${path}`);
    const id = this.pins.get(path);
    return id === undefined ? null : this.open(id);
  }

  objPin(fd: number, path: string): void {
    this.bpfOp(`pin ${this.held(fd)} ${path}`);
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (!this.isBpfFs(path) || !(dir === BPFFS || this.bpfDirs.has(dir))) bpfFail('bpf(BPF_OBJ_PIN)', 'ENOENT');
    if (this.pins.has(path)) bpfFail('bpf(BPF_OBJ_PIN)', 'EEXIST');
    this.pins.set(path, this.held(fd));
  }

  mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, name: string): number {
    this.bpfOp(`create map ${name}`);
    const id = this.nextBpfId++;
    this.bpfObjects.set(id, { kind: 'map', info: { id, type, keySize, valueSize, maxEntries, name } });
    return this.open(id);
  }

  mapInfo(fd: number): BpfMapInfo {
    const o = this.bpfObjects.get(this.held(fd))!;
    if (o.kind !== 'map') bpfFail('bpf(BPF_OBJ_GET_INFO_BY_FD)', 'EINVAL');
    return { ...o.info };
  }

  progLoad(type: number, insns: Uint8Array, license: string, name: string): number {
    this.bpfOp(`load ${name} (${insns.length / 8} insns)`);
    const id = this.nextBpfId++;
    this.bpfObjects.set(id, { kind: 'prog', name });
    return this.open(id);
  }

  close(fd: number): void {
    this.held(fd);
    this.fds.delete(fd);
  }

  mkdir(path: string): void {
    if (!this.isBpfFs(path)) bpfFail('mkdir', 'ENOENT');
    if (this.bpfDirs.has(path)) return;
    this.bpfOp(`mkdir ${path}`);
    this.bpfDirs.add(path);
  }

  remove(path: string): void {
    const under = (p: string): boolean => p === path || p.startsWith(`${path}/`);
    if (![...this.pins.keys(), ...this.bpfDirs].some(under)) return;
    this.bpfOp(`remove ${path}`);
    for (const p of [...this.pins.keys()]) if (under(p)) this.pins.delete(p);
    for (const d of [...this.bpfDirs]) if (under(d)) this.bpfDirs.delete(d);
  }

  /** Descriptors open now, by what they hold: what a test checks nothing leaks. */
  openFds(): string[] {
    return [...this.fds.values()].map((id) => {
      const o = this.bpfObjects.get(id)!;
      return o.kind === 'map' ? `map ${o.info.name} ${id}` : `prog ${o.name} ${id}`;
    });
  }

  private open(id: number): number {
    const fd = this.nextFd++;
    this.fds.set(fd, id);
    return fd;
  }

  private held(fd: number): number {
    return this.fds.get(fd) ?? bpfFail('bpf', 'EBADF');
  }

  /** Logs a bpf operation and applies injected failures (their text is the error's code). */
  private bpfOp(what: string): void {
    const line = `bpf: ${what}`;
    this.log.push(line);
    for (const [prefix, code] of this.failures) if (line.startsWith(prefix)) bpfFail(what, code);
  }

  /**
   * Logs an Rtnl operation, applies injected failures, and gives its namespace (a missing one
   * fails as netlink does, unless the operation is a delete: `gone` then gives undefined).
   */
  private op(netns: string, what: string): FakeNs;
  private op(netns: string, what: string, gone: true): FakeNs | undefined;
  private op(netns: string, what: string, gone = false): FakeNs | undefined {
    const line = `rtnl ${netns}: ${what}`;
    this.log.push(line);
    for (const [prefix, reason] of this.failures) if (line.startsWith(prefix)) nlFail(what, EINVAL, reason);
    const n = this.ns.get(netns);
    if (!n && !gone) nlFail(what, ENOENT, `open ${netns}: No such file or directory`);
    return n;
  }

  /** The name of the device with that index (tc requests name devices by index), or `#N` when there is none. */
  private devName(netns: string, ifindex: number): string {
    for (const l of this.ns.get(netns)?.links.values() ?? []) if (l.ifindex === ifindex) return l.ifname;
    return `#${ifindex}`;
  }

  private toLink(path: string, l: FakeLink): Link {
    const peer = l.peer ? this.ns.get(l.peer.netns)?.links.get(l.peer.ifname) : undefined;
    const master = l.master ? this.get(path).links.get(l.master) : undefined;
    return {
      ifname: l.ifname,
      ifindex: l.ifindex,
      type: l.ifname === 'lo' ? 772 : 1,
      ...(peer ? { peerIndex: peer.ifindex } : {}),
      address: l.address,
      ...(master ? { masterIndex: master.ifindex } : {}),
      up: l.up,
      addrgenNone: l.addrgen === 'none',
      ...(l.kind === 'other' ? {} : { kind: l.kind }),
    };
  }

  private exec(path: string, a: string[], argv: readonly string[], input?: string): string {
    const fail = (msg: string): never => {
      throw new CommandError(argv, 1, msg);
    };
    const s = a.join(' ');
    const batch = a.indexOf('-batch');
    if ((a[0] === 'ip' || a[0] === 'tc') && batch > 0 && input !== undefined) {
      // Line by line, stopping at the first failure, as `ip -batch` / `tc -batch` do; options
      // before -batch (-j -d) shape what the `show` lines print.
      const flags = a.slice(1, batch);
      const out: string[] = [];
      for (const line of input.split('\n').filter((l) => l.trim())) {
        const words = line.trim().split(/\s+/);
        const printed = this.exec(path, [a[0], ...(words.includes('show') ? flags : []), ...words], argv);
        if (printed) out.push(printed);
      }
      return out.join('\n');
    }
    if (s === 'ip -j netns list') return JSON.stringify([...this.ns.keys()].filter((p) => p.startsWith('/run/netns/')).map((p) => ({ name: p.slice(11) })));
    if (a[0] === 'ip' && a[1] === 'netns') {
      const p = `/run/netns/${a[3]}`;
      if (a[2] === 'add') return this.ns.has(p) ? fail('File exists') : (this.addNetns(p), '');
      if (a[2] === 'del') return this.ns.delete(p) ? (this.dropPeersOf(p), '') : fail(`Cannot remove namespace file "${p}": No such file or directory`);
    }
    // Mounting again would stack a second bpf filesystem over the first: the agent never does.
    if (s === `mount -t bpf bpf ${BPFFS}` && path === 'host') return this.bpffs ? fail(`mount: ${BPFFS}: bpf already mounted`) : ((this.bpffs = true), '');
    const n = this.get(path);
    // `sysctl -q -w KEY=V…` sets keys; `sysctl -e KEY…` prints the known ones as `KEY = V`.
    if (a[0] === 'sysctl' && a.includes('-w')) {
      for (const kv of a.filter((w) => w.includes('='))) {
        const [k, v] = kv.split('=');
        if (!n.sysctl.has(k)) fail(`sysctl: cannot stat /proc/sys/${k.replace(/\./g, '/')}: No such file or directory`);
        n.sysctl.set(k, v);
      }
      return '';
    }
    if (a[0] === 'sysctl' && a.includes('-e')) return a.filter((k) => n.sysctl.has(k)).map((k) => `${k} = ${n.sysctl.get(k)}`).join('\n');
    if (s === 'ip -j -d link show') return JSON.stringify([...n.links.values()].map((l) => this.show(path, l)));
    if (s.startsWith('ip -j -d link show dev ')) {
      const l = n.links.get(a[6]) ?? fail(`Device "${a[6]}" does not exist.`);
      return JSON.stringify([this.show(path, l)]);
    }
    if (a[0] === 'ip' && a[1] === 'link' && a[2] === 'add') {
      const name = a[3];
      if (n.links.has(name)) fail('RTNETLINK answers: File exists');
      if (a[5] === 'bridge') return (this.addLink(path, name, 'bridge'), '');
      if (a[5] === 'veth') {
        const peerName = a[8];
        const peerPath = a[9] === 'netns' ? a[10] : path;
        const pn = this.get(peerPath);
        if (pn.links.has(peerName)) fail('RTNETLINK answers: File exists');
        const l = this.addLink(path, name, 'veth');
        const p = this.addLink(peerPath, peerName, 'veth');
        l.peer = { netns: peerPath, ifname: peerName };
        p.peer = { netns: path, ifname: name };
        return '';
      }
    }
    if (a[0] === 'ip' && a[1] === 'link' && a[2] === 'del') {
      const l = n.links.get(a[3]) ?? fail(`Cannot find device "${a[3]}"`);
      this.removeLink(path, l);
      return '';
    }
    if (a[0] === 'ip' && a[1] === 'link' && a[2] === 'set') {
      const rest = a[3] === 'dev' ? a.slice(4) : a.slice(3);
      const l = n.links.get(rest[0]) ?? fail(`Cannot find device "${rest[0]}"`);
      for (let i = 1; i < rest.length; i++) {
        const k = rest[i];
        if (k === 'up') l.up = true;
        else if (k === 'address') l.address = rest[++i];
        else if (k === 'addrgenmode') l.addrgen = rest[++i];
        else if (k === 'master') l.master = rest[++i];
        else fail(`fake: ip link set ${k} not modelled`);
      }
      return '';
    }
    if (a[0] === 'tc') return this.tc(n, a, fail);
    if (a[0] === 'nft') {
      if (a[1] === '-j' && a[2] === 'list' && a[3] === 'table') {
        const script = n.nft.get(`${a[4]} ${a[5]}`) ?? fail('Error: No such file or directory');
        return JSON.stringify({ nftables: fakeNftJson(a[4], a[5], script) });
      }
      if (a[1] === '-f' && input !== undefined) {
        const add = /^add element (\w+) (\w+) (\w+) \{ (.*) \}$/.exec(input.trim());
        if (add) {
          const key = `${add[1]} ${add[2]}`;
          const script = n.nft.get(key) ?? fail('Error: No such file or directory');
          n.nft.set(key, script.split('\n').map((l) => (l.trim().startsWith(`set ${add[3]} {`) ? addElements(l, add[4]) : l)).join('\n'));
          return '';
        }
        const m = /^table (\w+) (\w+) \{/m.exec(input.split('\n').slice(2).join('\n'));
        if (!m) fail('fake: nft script not modelled');
        n.nft.set(`${m![1]} ${m![2]}`, input);
        return '';
      }
      if (a[1] === 'delete' && a[2] === 'table') return n.nft.delete(`${a[3]} ${a[4]}`) ? '' : fail('Error: No such file or directory');
    }
    return fail(`fake: "${s}" not modelled`);
  }

  private tc(n: FakeNs, a: string[], fail: (m: string) => never): string {
    const s = a.join(' ');
    const dev = a[a.indexOf('dev') + 1];
    if (!n.links.has(dev)) fail(`Cannot find device "${dev}"`);
    if (s.startsWith('tc -j qdisc show')) return JSON.stringify(n.clsact.has(dev) ? [{ kind: 'noqueue' }, { kind: 'clsact' }] : [{ kind: 'noqueue' }]);
    if (s.startsWith('tc qdisc add')) return n.clsact.has(dev) ? fail('Error: Exclusivity flag on, cannot modify.') : (n.clsact.add(dev), '');
    if (s.startsWith('tc qdisc del')) {
      if (!n.clsact.delete(dev)) fail('Error: Cannot find specified qdisc on specified device.');
      n.filters = n.filters.filter((f) => f.dev !== dev);
      return '';
    }
    const hook = a[a.indexOf(dev) + 1];
    // What the feature probe adds: a cls_bpf filter running a classic BPF program.
    if (s.startsWith('tc filter add') && a.includes('bpf') && a.includes('bytecode')) {
      if (!n.clsact.has(dev)) fail("Error: Parent Qdisc doesn't exists.");
      n.filters.push({ dev, hook, pref: Number(a[a.indexOf('pref') + 1]), kind: 'bpf' });
      return '';
    }
    return fail(`fake: "${s}" not modelled`);
  }

  private get(path: string): FakeNs {
    const n = this.ns.get(path);
    if (!n) throw new Error(`fake: no namespace ${path}`);
    return n;
  }

  private newLink(ifname: string, kind: FakeLink['kind']): FakeLink {
    const ifindex = this.nextIndex++;
    return {
      ifname, ifindex, kind, up: ifname === 'lo', addrgen: 'eui64',
      address: `02:00:00:00:${(ifindex >> 8).toString(16).padStart(2, '0')}:${(ifindex & 255).toString(16).padStart(2, '0')}`,
    };
  }

  private removeLink(path: string, l: FakeLink): void {
    const n = this.get(path);
    n.links.delete(l.ifname);
    n.clsact.delete(l.ifname);
    // A deleted bridge releases its ports.
    for (const port of n.links.values()) if (port.master === l.ifname) delete port.master;
    n.filters = n.filters.filter((f) => f.dev !== l.ifname);
    if (l.peer) {
      const pn = this.ns.get(l.peer.netns);
      const p = pn?.links.get(l.peer.ifname);
      if (pn && p) {
        pn.links.delete(p.ifname);
        pn.clsact.delete(p.ifname);
      }
    }
  }

  /** A namespace's links die with it, and so do their veth peers elsewhere. */
  private dropPeersOf(path: string): void {
    for (const [p, n] of this.ns) {
      for (const l of [...n.links.values()]) if (l.peer?.netns === path) this.removeLink(p, l);
    }
  }

  private show(path: string, l: FakeLink): unknown {
    const peer = l.peer ? this.ns.get(l.peer.netns)?.links.get(l.peer.ifname) : undefined;
    const master = l.master ? this.get(path).links.get(l.master) : undefined;
    return {
      ifname: l.ifname,
      ifindex: l.ifindex,
      ...(peer ? { link_index: peer.ifindex } : {}),
      address: l.address,
      flags: l.up ? ['BROADCAST', 'UP'] : ['BROADCAST'],
      inet6_addr_gen_mode: l.addrgen,
      ...(master ? { master: master.ifname } : {}),
      linkinfo: {
        info_kind: l.kind === 'other' ? undefined : l.kind,
        ...(master ? { info_slave_kind: 'bridge' } : {}),
      },
    };
  }
}

/** The parts of `nft -j list table` the agent reads: chains with hook and policy, rules with comments. */
function fakeNftJson(family: string, name: string, script: string): unknown[] {
  const out: unknown[] = [{ table: { family, name } }];
  let chain: string | null = null;
  for (const raw of script.split('\n').slice(2)) {
    const line = raw.trim();
    const t = /^type filter hook (\w+) .*policy (\w+);/.exec(line);
    if (t && chain) {
      const last = out[out.length - 1] as { chain: { hook?: string; policy?: string } };
      last.chain.hook = t[1];
      last.chain.policy = t[2];
      continue;
    }
    const c = /^chain (\w+) \{(.*)$/.exec(line);
    if (c) {
      chain = c[1];
      const hook = /hook (\w+)/.exec(c[2]);
      const policy = /policy (\w+)/.exec(c[2]);
      out.push({ chain: { family, table: name, name: chain, hook: hook?.[1], policy: policy?.[1] } });
      if (c[2].includes('}')) chain = null;
      continue;
    }
    const set = /^set (\w+) \{/.exec(line);
    if (set) {
      const elems = /elements = \{ (.*) \} \}$/.exec(line)?.[1].split(', ') ?? [];
      const elem = elems.map((e) => {
        const [val, timeout] = e.split(' timeout ');
        const parts = val.split(' . ').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
        return timeout ? { elem: { val: { concat: parts }, expires: Number(timeout.replace('s', '')) } } : { concat: parts };
      });
      out.push({ set: { family, table: name, name: set[1], ...(elem.length ? { elem } : {}) } });
      continue;
    }
    if (line === '}') {
      chain = null;
      continue;
    }
    if (chain && line && !line.startsWith('type ')) {
      const comment = /comment "([^"]*)"/.exec(line);
      out.push({ rule: { family, table: name, chain, ...(comment ? { comment: comment[1] } : {}) } });
    }
  }
  return out;
}

function addElements(setLine: string, elems: string): string {
  return setLine.includes('elements = {') ? setLine.replace(/ \} \}$/, `, ${elems} } }`) : setLine.replace(/ \}$/, ` elements = { ${elems} } }`);
}

/** A logged command or operation that changed something: not a read, unless a batch that also writes. */
export function isWrite(line: string): boolean {
  if (line.startsWith('rtnl ')) return !/^rtnl [^:]+: (get|dump) /.test(line);
  // Loading a program changes nothing a later run could see; only filters keep one.
  if (line.startsWith('bpf: ')) return !/^bpf: (get|load) /.test(line);
  if (line.includes(' sysctl ') && !line.includes(' -w ')) return false;
  return !line.includes(' -j ') || line.includes(' -batch ');
}

function nlFail(what: string, errno: number, reason: string): never {
  throw new NetlinkError(what, errno, reason);
}

/** Fails as @mseg/capture's bpf calls do: an Error whose `code` is the errno name. */
function bpfFail(syscall: string, code: string): never {
  throw Object.assign(new Error(`${syscall}: ${code}`), { code, syscall });
}
