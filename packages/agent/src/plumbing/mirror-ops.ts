/**
 * The tc mirror of one container interface: a clsact qdisc and, on its ingress and egress hooks,
 * one direct-action cls_bpf filter running the tap's mirror program (mirror-programs.ts): it
 * copies each packet onto nv-ex-<if>, as `mirred egress mirror` did, except TCP segments of
 * sessions the DP has put in the bypass map. Our filters are the ones at preference MIRROR_PREF:
 * prune and delete touch nothing else. A filter is right when it is the only one there and its
 * name is the program's the tap needs now; anything else (an earlier version's u32 + mirred
 * filter, a program for another map or ifindex, a duplicate) is repaired by deleting the whole
 * preference and adding the filter again, so a run killed between the two steps leaves nothing
 * rather than a duplicate.
 */
import { isGone } from './links.js';
import type { MirrorPrograms } from './mirror-programs.js';
import { LINK_PREFIX } from './names.js';
import type { Filter, Hook, Rtnl } from './netlink/rtnl.js';
import type { TapSpec } from './types.js';
import { groupByNetns } from './veth-ops.js';

/**
 * Low preferences: our mirror runs before other filters can redirect or drop a packet. One per
 * hook, as earlier versions had them (u32 lists the hash tables of one preference under both
 * hooks), so an upgrade finds their filters where it replaces ours.
 */
export const MIRROR_PREF = { ingress: 7, egress: 8 } as const;
const HOOKS = ['ingress', 'egress'] as const;

export class MirrorOps {
  constructor(
    private readonly rtnl: Rtnl,
    private readonly programs: MirrorPrograms,
  ) {}

  /** Whether the container interface has its clsact qdisc (read apart, so it can run beside the veth's reads). */
  hasClsact(t: TapSpec): Promise<boolean> {
    return this.rtnl.hasClsact(t.netns, t.ifIndex);
  }

  /**
   * `exIndex`: nv-ex's ifindex, which our filters must mirror onto; `port`: nv-in's ifindex (the
   * DP port the program's bypass keys name). `clsact`: what hasClsact read (no other agent adds or
   * removes our interface's qdisc meanwhile).
   */
  async update(t: TapSpec, exIndex: number, port: number, clsact: boolean): Promise<void> {
    const name = this.programs.name(exIndex, port);
    const redo: Hook[] = [];
    if (clsact) {
      const found = await Promise.all(HOOKS.map((h) => this.filters(t.netns, t.ifIndex, h)));
      for (const [i, hook] of HOOKS.entries()) {
        const ours = found[i];
        if (ours.length === 1 && ours[0].kind === 'bpf' && ours[0].name === name) continue;
        if (ours.length) await this.rtnl.delFilters(t.netns, t.ifIndex, hook, MIRROR_PREF[hook]);
        redo.push(hook);
      }
      if (!redo.length) return;
    } else {
      redo.push(...HOOKS);
    }
    // One program for both hooks; the filters hold it, our descriptor goes once they are in.
    const prog = this.programs.load(exIndex, port);
    try {
      // A clsact made now has no filters: qdisc and filters go in one exchange.
      await this.rtnl.addMirror(t.netns, t.ifIndex, !clsact, redo.map((hook) => ({ hook, pref: MIRROR_PREF[hook] })), prog);
    } finally {
      this.programs.close(prog.fd);
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

  /** Our filters (not the per-preference entries) on one hook; none when the device or qdisc is gone. */
  private async filters(netns: string, ifindex: number, hook: Hook): Promise<Filter[]> {
    try {
      return (await this.rtnl.filters(netns, ifindex, hook)).filter((f) => f.pref === MIRROR_PREF[hook] && !f.table);
    } catch (err) {
      if (isGone(err)) return [];
      throw err;
    }
  }
}
