/**
 * The tap veth pair of one container interface: nv-ex-<if> in the container namespace (the
 * mirror target), its peer nv-in-<short id><n> in the capture namespace on nv-br. Both ends get
 * the NeuV MAC of the host-side ifindex, no IPv6 link-local address (no chatter of their own) and
 * come up; the bridge port neither learns nor floods.
 */
import { inNetns, namedNetnsPath, parseJsonList, type CommandRunner } from './command.js';
import { deleteIgnoringGone, getLink, isGone, isUp, listLinks, type LinkInfo } from './links.js';
import { BRIDGE, LINK_PREFIX, neuvMac } from './names.js';
import type { TapSpec } from './types.js';

export interface VethPair {
  ex: LinkInfo;
  inn: LinkInfo;
  /** The nv-in end's ifindex in the capture namespace: the port the DP attributes frames to. */
  ifindex: number;
  /** The pair was (re)made: anything pointing at the old nv-ex must be redone. */
  created: boolean;
}

const PORT_FLAGS = ['learning', 'flood', 'mcast_flood', 'bcast_flood'] as const;

export class VethOps {
  private readonly capture: string;

  constructor(
    private readonly runner: CommandRunner,
    netnsName: string,
  ) {
    this.capture = namedNetnsPath(netnsName);
  }

  /**
   * The pair exists and each end names the other (made anew otherwise). Its addresses, state and
   * bridge port are `fix`'s: a mirror onto nv-ex can go in meanwhile (see tap-ops.ts).
   */
  async pair(t: TapSpec): Promise<VethPair> {
    // The two ends live in different namespaces: read both at once (each read is a process).
    let [ex, inn] = await Promise.all([getLink(this.runner, t.netns, t.exName), getLink(this.runner, this.capture, t.inName)]);
    let created = false;
    // A pair is ours and whole only when each end names the other as its peer.
    const paired = ex && inn && ex.link_index === inn.ifindex && inn.link_index === ex.ifindex && ex.linkinfo?.info_kind === 'veth';
    if (!paired) {
      if (inn) await deleteIgnoringGone(this.runner, inNetns(this.capture, ['ip', 'link', 'del', t.inName]));
      if (ex) await deleteIgnoringGone(this.runner, inNetns(t.netns, ['ip', 'link', 'del', t.exName]));
      // Made and read back by one process: with -j only the `show` line prints.
      const add = ['link', 'add', t.exName, 'type', 'veth', 'peer', 'name', t.inName, 'netns', this.capture].join(' ');
      const out = await this.runner.run(inNetns(t.netns, ['ip', '-j', '-d', '-batch', '-']), { input: `${add}\nlink show dev ${t.exName}\n` });
      ex = parseJsonList<LinkInfo>(out)[0] ?? null;
      if (!ex?.link_index) throw new Error(`veth ${t.exName}/${t.inName} missing right after it was made`);
      // A new nv-in end is down, without master, MAC or port flags: no need to read it back,
      // its ifindex is the container end's peer index.
      inn = { ifname: t.inName, ifindex: ex.link_index, flags: [] };
      created = true;
    }
    if (!ex || !inn) throw new Error(`veth ${t.exName}/${t.inName} missing right after it was made`);
    return { ex, inn, ifindex: inn.ifindex, created };
  }

  /** Sets on both ends whatever differs from the NeuV MAC, no address generation, up, and the bridge port. */
  async fix(t: TapSpec, { ex, inn }: VethPair): Promise<void> {
    const mac = neuvMac(inn.ifindex);
    const exFix = this.fixes(ex, mac, []);
    const writes: Promise<unknown>[] = [];
    if (exFix.length) writes.push(this.runner.run(inNetns(t.netns, ['ip', 'link', 'set', 'dev', t.exName, ...exFix])));
    // The port's changes go as one `ip -batch` (one process instead of two: each costs ~10 ms),
    // at the same time as the container end's (another namespace, nothing in common).
    const inLines: string[] = [];
    const inFix = this.fixes(inn, mac, inn.master === BRIDGE ? [] : ['master', BRIDGE]);
    if (inFix.length) inLines.push(['link', 'set', 'dev', t.inName, ...inFix].join(' '));
    const flags = inn.linkinfo?.info_slave_data;
    if (inn.linkinfo?.info_slave_kind !== 'bridge' || !flags || PORT_FLAGS.some((f) => flags[f] !== false)) {
      inLines.push(['link', 'set', 'dev', t.inName, 'type', 'bridge_slave', ...PORT_FLAGS.flatMap((f) => [f, 'off'])].join(' '));
    }
    if (inLines.length) writes.push(this.runner.run(inNetns(this.capture, ['ip', '-batch', '-']), { input: `${inLines.join('\n')}\n` }));
    await Promise.all(writes);
  }

  /** Deleting either end removes the pair; the container end goes with its namespace anyway. */
  async delete(t: TapSpec): Promise<void> {
    await deleteIgnoringGone(this.runner, inNetns(this.capture, ['ip', 'link', 'del', t.inName]));
    await deleteIgnoringGone(this.runner, inNetns(t.netns, ['ip', 'link', 'del', t.exName]));
  }

  /**
   * Removes nv- links that no desired tap names: nv-in ports in the capture namespace (their nv-ex
   * peers go with them) and nv-ex ends in the namespaces of known containers (desired or not, e.g.
   * one that stopped being monitored while the agent was down). Only `nv-` names are touched,
   * never the bridge; a container that is gone took its namespace with it.
   */
  async prune(all: readonly TapSpec[], known: readonly string[] = []): Promise<void> {
    const wantIn = new Set(all.map((t) => t.inName));
    for (const l of await listLinks(this.runner, this.capture)) {
      if (l.ifname.startsWith(LINK_PREFIX) && l.ifname !== BRIDGE && !wantIn.has(l.ifname)) {
        await deleteIgnoringGone(this.runner, inNetns(this.capture, ['ip', 'link', 'del', l.ifname]));
      }
    }
    for (const [netns, taps] of groupByNetns(all, known)) {
      const wantEx = new Set(taps.map((t) => t.exName));
      let links: LinkInfo[];
      try {
        links = await listLinks(this.runner, netns);
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      for (const l of links) {
        if (l.ifname.startsWith(LINK_PREFIX) && !wantEx.has(l.ifname)) {
          await deleteIgnoringGone(this.runner, inNetns(netns, ['ip', 'link', 'del', l.ifname]));
        }
      }
    }
  }

  /** The `ip link set` arguments for whatever differs: master, MAC, address generation, up. */
  private fixes(l: LinkInfo, mac: string, extra: string[]): string[] {
    const args: string[] = [...extra];
    if (l.address?.toLowerCase() !== mac) args.push('address', mac);
    if (l.inet6_addr_gen_mode !== 'none') args.push('addrgenmode', 'none');
    if (!isUp(l)) args.push('up');
    return args;
  }
}

/** Taps per container namespace; `known` namespaces without a desired tap map to none. */
export function groupByNetns(all: readonly TapSpec[], known: readonly string[] = []): Map<string, TapSpec[]> {
  const m = new Map<string, TapSpec[]>(known.map((k) => [k, []]));
  for (const t of all) m.set(t.netns, [...(m.get(t.netns) ?? []), t]);
  return m;
}
