/**
 * Plumbing as two reconcilers: the base (capture namespace and its switches, the bypass map; one object)
 * and the taps (one per container interface). Taps wait while the base is not done, and are all
 * looked at again when it becomes done.
 */
import { Reconciler, type ObjectStatus } from '../reconcile/reconciler.js';
import { BaseOps, type BaseSpec } from './base-ops.js';
import type { Bpf } from './bpf.js';
import type { CommandRunner } from './command.js';
import { desiredTaps, sameTap, tapKey } from './desired.js';
import type { KernelFeatures } from './features.js';
import { NetlinkRtnl } from './netlink/netlink-rtnl.js';
import type { Rtnl } from './netlink/rtnl.js';
import { TapOps, type TapEvents } from './tap-ops.js';
import type { PlumbingConfig, PlumbingWorkload, TapSpec } from './types.js';

export interface PlumbingOptions extends PlumbingConfig, TapEvents {
  /** The shared piece (the capture namespace) is made by commands, once per agent. */
  runner: CommandRunner;
  /** The taps' links and filters; default netlink from this process. */
  rtnl?: Rtnl;
  /** The bypass map and mirror programs; default bpf(2) from this process. */
  bpf?: Bpf;
  onStatus?(kind: 'base' | 'tap', status: ObjectStatus): void;
  refreshMs?: number;
}

export class Plumbing {
  readonly base: Reconciler<BaseSpec>;
  readonly taps: Reconciler<TapSpec>;
  private readonly baseOps: BaseOps;
  private known: string[] = [];

  constructor(opts: PlumbingOptions) {
    this.baseOps = new BaseOps(opts.runner, opts.bpf, () => this.taps.touch());
    this.base = new Reconciler('base', this.baseOps, {
      key: (b) => b.netnsName,
      equal: (a, b) => a.netnsName === b.netnsName,
      refreshMs: opts.refreshMs,
      onStatus: (s) => {
        opts.onStatus?.('base', s);
        if (s.kind === 'done') this.taps.touch();
      },
    });
    this.taps = new Reconciler('tap', new TapOps(opts.rtnl ?? new NetlinkRtnl(), this.baseOps.programs, opts.netnsName, opts, () => this.known), {
      key: tapKey,
      equal: sameTap,
      refreshMs: opts.refreshMs,
      blockedBy: () => {
        const s = this.base.statuses()[0];
        if (!s) return 'capture namespace not desired';
        return s.kind === 'done' ? null : `capture namespace ${s.kind}${s.message ? `: ${s.message}` : ''}`;
      },
      onStatus: (s) => opts.onStatus?.('tap', s),
    });
    this.base.setDesired([{ netnsName: opts.netnsName }]);
  }

  get features(): KernelFeatures | null {
    return this.baseOps.features;
  }

  /**
   * The workload table changed: recompute the taps. `knownNetns` lists the namespaces of every
   * running container, plumbed or not, so prune can clear what an earlier run left in one that is
   * no longer monitored.
   */
  setWorkloads(workloads: readonly PlumbingWorkload[], knownNetns: readonly string[] = []): void {
    this.known = [...new Set([...knownNetns, ...workloads.map((w) => w.netns)])];
    this.taps.setDesired(desiredTaps(workloads));
  }

  start(): void {
    this.base.start();
    this.taps.start();
  }

  async stop(): Promise<void> {
    await this.taps.stop();
    await this.base.stop();
  }

  /** Applies everything due now (tests, first start): base first, then taps. */
  async settle(): Promise<void> {
    await this.base.settle();
    await this.taps.settle();
  }

  statuses(): { base: ObjectStatus[]; taps: ObjectStatus[] } {
    return { base: this.base.statuses(), taps: this.taps.statuses() };
  }
}
