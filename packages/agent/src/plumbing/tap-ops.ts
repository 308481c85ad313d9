/**
 * Operations on one tap (container interface): the veth pair first, then the mirror onto it (beside
 * the pair's address fixes); on delete the mirror first, so no filter ever points at a missing device for longer than needed.
 * The nv-in ifindex of each done tap is kept for the DP's port registration.
 */
import type { Operations } from '../reconcile/reconciler.js';
import { MirrorOps } from './mirror-ops.js';
import type { MirrorPrograms } from './mirror-programs.js';
import type { Rtnl } from './netlink/rtnl.js';
import type { TapSpec } from './types.js';
import { VethOps } from './veth-ops.js';

export interface TapEvents {
  /** A tap is in place (after every successful update: the ifindex may have changed). */
  onReady?(tap: TapSpec, ifindex: number): void;
  onRemoved?(tap: TapSpec): void;
}

export class TapOps implements Operations<TapSpec> {
  private readonly veth: VethOps;
  private readonly mirror: MirrorOps;

  constructor(
    rtnl: Rtnl,
    programs: MirrorPrograms,
    netnsName: string,
    private readonly events: TapEvents = {},
    /** Namespaces of every container the runtime knows, monitored or not (prune looks there too). */
    private readonly knownNetns: () => readonly string[] = () => [],
  ) {
    this.veth = new VethOps(rtnl, netnsName);
    this.mirror = new MirrorOps(rtnl, programs);
  }

  async update(t: TapSpec): Promise<void> {
    // Each step waits only for what it needs: the qdisc read does not depend on the pair, and the
    // mirror needs nv-ex to exist, not to be up. Until the fix puts nv-ex up, mirrored frames are
    // dropped at it, as before the mirror existed.
    const [pair, clsact] = await Promise.all([this.veth.pair(t), this.mirror.hasClsact(t)]);
    await Promise.all([this.veth.fix(t, pair), this.mirror.update(t, pair.ex.ifindex, pair.ifindex, clsact)]);
    this.events.onReady?.(t, pair.ifindex);
  }

  async delete(t: TapSpec): Promise<void> {
    await this.mirror.delete(t);
    await this.veth.delete(t);
    this.events.onRemoved?.(t);
  }

  async prune(all: readonly TapSpec[]): Promise<void> {
    const known = this.knownNetns();
    await this.mirror.prune(all, known);
    await this.veth.prune(all, known);
  }
}
