/**
 * The tc mirror of one container interface: a clsact qdisc and, on its ingress and egress hooks,
 * one u32 match-all filter whose only action is `mirred egress mirror` onto nv-ex-<if>. (u32
 * `match u32 0 0` because this kernel family lacks cls_matchall.) Our filters are the ones at
 * preference MIRROR_PREF: prune and delete touch nothing else. A wrong or duplicated set is
 * repaired by deleting the whole preference and adding one filter again (no fixed u32 handle: the
 * kernel may give a re-made preference a new hash table id, and a handle naming the old one is
 * refused), so a run killed between the two steps leaves nothing rather than a duplicate.
 */
import { inNetns, parseJsonList, type CommandRunner } from './command.js';
import { deleteIgnoringGone, isGone, listLinks } from './links.js';
import { LINK_PREFIX } from './names.js';
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
type Hook = (typeof HOOKS)[number];

interface TcFilter {
  pref: number;
  kind: string;
  options?: {
    fh?: string;
    match?: { value: string; mask: string };
    actions?: { kind: string; mirred_action?: string; direction?: string; to_dev?: string }[];
  };
}

export class MirrorOps {
  constructor(private readonly runner: CommandRunner) {}

  /** Whether the container interface has its clsact qdisc (read apart, so it can run beside the veth's reads). */
  async hasClsact(t: TapSpec): Promise<boolean> {
    const qdiscs = parseJsonList<{ kind: string }>(await this.runner.run(inNetns(t.netns, ['tc', '-j', 'qdisc', 'show', 'dev', t.ifName])));
    return qdiscs.some((q) => q.kind === 'clsact');
  }

  /**
   * `force`: the nv-ex device was made anew, so a filter naming it may point at its predecessor.
   * `clsact`: what hasClsact read (no other agent adds or removes our interface's qdisc meanwhile).
   */
  async update(t: TapSpec, force: boolean, clsact: boolean): Promise<void> {
    const add = (hook: Hook): string[] => [
      'filter', 'add', 'dev', t.ifName, hook, 'protocol', 'all', 'pref', String(MIRROR_PREF[hook]),
      'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', t.exName,
    ];
    if (!clsact) {
      // A clsact made now has no filters: qdisc and both filters go in one `tc -batch`.
      const lines = [['qdisc', 'add', 'dev', t.ifName, 'clsact'], add('ingress'), add('egress')].map((l) => l.join(' '));
      await this.runner.run(inNetns(t.netns, ['tc', '-batch', '-']), { input: `${lines.join('\n')}\n` });
      return;
    }
    for (const hook of HOOKS) {
      const ours = (await this.filters(t.netns, t.ifName, hook)).filter((f) => f.options?.fh && !f.options.fh.endsWith(':'));
      if (!force && ours.length === 1 && isMirrorTo(ours[0], t.exName)) continue;
      if (ours.length) await this.deletePref(t.netns, t.ifName, hook);
      await this.runner.run(inNetns(t.netns, ['tc', ...add(hook)]));
    }
  }

  /** Removes our filters, and the clsact qdisc when nothing else is left on it. */
  async delete(t: TapSpec): Promise<void> {
    await this.clear(t.netns, t.ifName);
  }

  /** In each known container namespace, clears our filters from interfaces no tap names. */
  async prune(all: readonly TapSpec[], known: readonly string[] = []): Promise<void> {
    for (const [netns, taps] of groupByNetns(all, known)) {
      const want = new Set(taps.map((t) => t.ifName));
      let links;
      try {
        links = await listLinks(this.runner, netns);
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      for (const l of links) {
        if (want.has(l.ifname) || l.ifname === 'lo' || l.ifname.startsWith(LINK_PREFIX)) continue;
        const found = await Promise.all(HOOKS.map((h) => this.filters(netns, l.ifname, h)));
        if (found.some((f) => f.length)) await this.clear(netns, l.ifname);
      }
    }
  }

  private async clear(netns: string, ifName: string): Promise<void> {
    for (const hook of HOOKS) await this.deletePref(netns, ifName, hook);
    let left: TcFilter[][];
    try {
      left = await Promise.all(
        HOOKS.map(async (h) => parseJsonList<TcFilter>(await this.runner.run(inNetns(netns, ['tc', '-j', 'filter', 'show', 'dev', ifName, h])))),
      );
    } catch (err) {
      if (isGone(err)) return;
      throw err;
    }
    if (left.every((f) => f.length === 0)) await deleteIgnoringGone(this.runner, inNetns(netns, ['tc', 'qdisc', 'del', 'dev', ifName, 'clsact']));
  }

  private async deletePref(netns: string, ifName: string, hook: Hook): Promise<void> {
    await deleteIgnoringGone(this.runner, inNetns(netns, ['tc', 'filter', 'del', 'dev', ifName, hook, 'pref', String(MIRROR_PREF[hook])]));
  }

  /** Filters at our preference on one hook (empty when the device or qdisc is gone). */
  private async filters(netns: string, ifName: string, hook: Hook): Promise<TcFilter[]> {
    try {
      const all = parseJsonList<TcFilter>(await this.runner.run(inNetns(netns, ['tc', '-j', 'filter', 'show', 'dev', ifName, hook])));
      return all.filter((f) => f.pref === MIRROR_PREF[hook]);
    } catch (err) {
      if (isGone(err)) return [];
      throw err;
    }
  }
}

function isMirrorTo(f: TcFilter, exName: string): boolean {
  const a = f.options?.actions;
  return (
    f.kind === 'u32' &&
    f.options?.match?.value === '0' &&
    f.options.match.mask === '0' &&
    a?.length === 1 &&
    a[0].kind === 'mirred' &&
    a[0].mirred_action === 'mirror' &&
    a[0].direction === 'egress' &&
    a[0].to_dev === exName
  );
}
