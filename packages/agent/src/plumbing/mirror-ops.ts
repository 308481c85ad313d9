/**
 * The tc mirror of one container interface: a clsact qdisc and, on its ingress and egress hooks,
 * one u32 match-all filter whose only action is `mirred egress mirror` onto nv-ex-<if>. (u32
 * `match u32 0 0` because this kernel family lacks cls_matchall.) Our filters are the ones at
 * preference MIRROR_PREF: prune and delete touch nothing else. A wrong or duplicated set is
 * repaired by deleting the whole preference and adding one filter again (no fixed u32 handle: the
 * kernel may give a re-made preference a new hash table id, and a handle naming the old one is
 * refused), so a run killed between the two steps leaves nothing rather than a duplicate.
 */
import { isGone } from './links.js';
import { LINK_PREFIX } from './names.js';
import type { Filter, Hook, Rtnl } from './netlink/rtnl.js';
import type { TapSpec } from './types.js';
import { groupByNetns } from './veth-ops.js';

/**
 * Low preferences: our mirror runs before other filters can redirect or drop a packet. One per
 * hook because u32 keeps the hash tables of every u32 instance on a qdisc in one list and lists
 * those with the same preference under either hook: with one preference for both, the egress
 * filter also shows up under ingress and looks like a duplicate.
 */
export const MIRROR_PREF = { ingress: 7, egress: 8 } as const;
const HOOKS = ['ingress', 'egress'] as const;

export class MirrorOps {
  constructor(private readonly rtnl: Rtnl) {}

  /** Whether the container interface has its clsact qdisc (read apart, so it can run beside the veth's reads). */
  hasClsact(t: TapSpec): Promise<boolean> {
    return this.rtnl.hasClsact(t.netns, t.ifIndex);
  }

  /**
   * `exIndex`: nv-ex's ifindex, which our filters must mirror onto. `clsact`: what hasClsact read
   * (no other agent adds or removes our interface's qdisc meanwhile).
   */
  async update(t: TapSpec, exIndex: number, clsact: boolean): Promise<void> {
    if (!clsact) {
      // A clsact made now has no filters: qdisc and both filters go in one exchange.
      await this.rtnl.addMirror(t.netns, t.ifIndex, true, HOOKS.map((hook) => ({ hook, pref: MIRROR_PREF[hook] })), exIndex);
      return;
    }
    for (const hook of HOOKS) {
      const ours = await this.filters(t.netns, t.ifIndex, hook);
      if (ours.length === 1 && ours[0].matchAll && ours[0].mirrorTo === exIndex) continue;
      if (ours.length) await this.rtnl.delFilters(t.netns, t.ifIndex, hook, MIRROR_PREF[hook]);
      await this.rtnl.addMirror(t.netns, t.ifIndex, false, [{ hook, pref: MIRROR_PREF[hook] }], exIndex);
    }
  }

  /** Removes our filters, and the clsact qdisc when nothing else is left on it. */
  async delete(t: TapSpec): Promise<void> {
    await this.clear(t.netns, t.ifIndex);
  }

  /** In each known container namespace, clears our filters from interfaces no tap names. */
  async prune(all: readonly TapSpec[], known: readonly string[] = []): Promise<void> {
    for (const [netns, taps] of groupByNetns(all, known)) {
      const want = new Set(taps.map((t) => t.ifName));
      let links;
      try {
        links = await this.rtnl.links(netns);
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      for (const l of links) {
        if (want.has(l.ifname) || l.ifname === 'lo' || l.ifname.startsWith(LINK_PREFIX)) continue;
        const found = await Promise.all(HOOKS.map((h) => this.filters(netns, l.ifindex, h)));
        if (found.some((f) => f.length)) await this.clear(netns, l.ifindex);
      }
    }
  }

  private async clear(netns: string, ifindex: number): Promise<void> {
    try {
      for (const hook of HOOKS) await this.rtnl.delFilters(netns, ifindex, hook, MIRROR_PREF[hook]);
      const left = await Promise.all(HOOKS.map((h) => this.rtnl.filters(netns, ifindex, h)));
      if (left.every((f) => f.length === 0)) await this.rtnl.delClsact(netns, ifindex);
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }

  /** Our filters (not u32's hash tables) on one hook; none when the device or qdisc is gone. */
  private async filters(netns: string, ifindex: number, hook: Hook): Promise<Filter[]> {
    try {
      return (await this.rtnl.filters(netns, ifindex, hook)).filter((f) => f.pref === MIRROR_PREF[hook] && !f.table);
    } catch (err) {
      if (isGone(err)) return [];
      throw err;
    }
  }
}
