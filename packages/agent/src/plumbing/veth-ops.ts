/**
 * The tap veth pair of one container interface: nv-ex-<if> in the container namespace (the
 * mirror target), its peer nv-in-<short id><n> standing alone in the capture namespace (no
 * master: base-ops.ts says why). Both ends get the NeuV MAC of the capture-side ifindex, no IPv6
 * link-local address (no chatter of their own) and come up.
 */
import { isGone } from './links.js';
import { LINK_PREFIX, neuvMac } from './names.js';
import { namedNetnsPath } from './command.js';
import type { Link, LinkChange, Rtnl } from './netlink/rtnl.js';
import type { TapSpec } from './types.js';

export interface VethPair {
  ex: Link;
  inn: Link;
  /** The nv-in end's ifindex in the capture namespace: the port the DP attributes frames to. */
  ifindex: number;
  /** The pair was (re)made: anything pointing at the old nv-ex must be redone. */
  created: boolean;
}

export class VethOps {
  private readonly capture: string;

  constructor(
    private readonly rtnl: Rtnl,
    netnsName: string,
  ) {
    this.capture = namedNetnsPath(netnsName);
  }

  /**
   * The pair exists and each end names the other (made anew otherwise). Its addresses and state
   * are `fix`'s: a mirror onto nv-ex can go in meanwhile (see tap-ops.ts).
   */
  async pair(t: TapSpec): Promise<VethPair> {
    let [ex, inn] = await Promise.all([this.rtnl.link(t.netns, t.exName), this.rtnl.link(this.capture, t.inName)]);
    // A pair is ours and whole only when each end names the other as its peer.
    const paired = ex && inn && ex.peerIndex === inn.ifindex && inn.peerIndex === ex.ifindex && ex.kind === 'veth';
    if (paired) return { ex: ex!, inn: inn!, ifindex: inn!.ifindex, created: false };
    if (inn) await this.rtnl.delLink(this.capture, t.inName);
    if (ex) await this.rtnl.delLink(t.netns, t.exName);
    ex = await this.rtnl.addVeth(t.netns, t.exName, t.inName, this.capture);
    if (!ex.peerIndex) throw new Error(`veth ${t.exName}/${t.inName} has no peer right after it was made`);
    // A new nv-in end is down, without master or MAC: no need to read it back, its
    // ifindex is the container end's peer index.
    inn = { ifname: t.inName, ifindex: ex.peerIndex, type: ex.type, up: false, addrgenNone: false };
    return { ex, inn, ifindex: inn.ifindex, created: true };
  }

  /** Sets on both ends whatever differs from the NeuV MAC, no address generation and up; nv-in leaves any master. */
  async fix(t: TapSpec, { ex, inn }: VethPair): Promise<void> {
    const mac = neuvMac(inn.ifindex);
    const exFix = fixes(ex, mac);
    const inFix = fixes(inn, mac);
    if (inn.masterIndex !== undefined) inFix.noMaster = true;
    // The two ends are in different namespaces, nothing in common: both at once.
    await Promise.all([
      Object.keys(exFix).length ? this.rtnl.setLink(t.netns, t.exName, exFix) : null,
      Object.keys(inFix).length ? this.rtnl.setLink(this.capture, t.inName, inFix) : null,
    ]);
  }

  /** Deleting either end removes the pair; the container end goes with its namespace anyway. */
  async delete(t: TapSpec): Promise<void> {
    await this.rtnl.delLink(this.capture, t.inName);
    await this.rtnl.delLink(t.netns, t.exName);
  }

  /**
   * Removes nv- links that no desired tap names: nv-in ports in the capture namespace (their nv-ex
   * peers go with them, and an earlier version's nv-br should base-ops not have removed it yet) and
   * nv-ex ends in the namespaces of known containers (desired or not, e.g. one that stopped being
   * monitored while the agent was down). Only `nv-` names are touched; a container that is gone
   * took its namespace with it.
   */
  async prune(all: readonly TapSpec[], known: readonly string[] = []): Promise<void> {
    const wantIn = new Set(all.map((t) => t.inName));
    for (const l of await this.rtnl.links(this.capture)) {
      if (l.ifname.startsWith(LINK_PREFIX) && !wantIn.has(l.ifname)) await this.rtnl.delLink(this.capture, l.ifname);
    }
    for (const [netns, taps] of groupByNetns(all, known)) {
      const wantEx = new Set(taps.map((t) => t.exName));
      let links: Link[];
      try {
        links = await this.rtnl.links(netns);
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      for (const l of links) {
        if (l.ifname.startsWith(LINK_PREFIX) && !wantEx.has(l.ifname)) await this.rtnl.delLink(netns, l.ifname);
      }
    }
  }
}

/** What differs from the NeuV MAC, no address generation, and up. */
function fixes(l: Link, mac: string): LinkChange {
  const c: LinkChange = {};
  if (l.address !== mac) c.address = mac;
  if (!l.addrgenNone) c.addrgenNone = true;
  if (!l.up) c.up = true;
  return c;
}

/** Taps per container namespace; `known` namespaces without a desired tap map to none. */
export function groupByNetns(all: readonly TapSpec[], known: readonly string[] = []): Map<string, TapSpec[]> {
  const m = new Map<string, TapSpec[]>(known.map((k) => [k, []]));
  for (const t of all) m.set(t.netns, [...(m.get(t.netns) ?? []), t]);
  return m;
}
