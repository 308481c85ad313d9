/**
 * Protect-mode enforcement for all workloads: a reconciler of `inet mseg` tables (one per Protect
 * container), the deny-log readers of those containers, and the cut requests of the DP, which go
 * straight into the table's timed cut set. Monitor workloads have no table: switching a workload's
 * mode only changes the desired set, and the reconciler applies it at once.
 */
import { parseCidr } from '@mseg/dp';
import { inNetns, type CommandRunner } from '../plumbing/command.js';
import { NetlinkRtnl } from '../plumbing/netlink/netlink-rtnl.js';
import type { Rtnl } from '../plumbing/netlink/rtnl.js';
import { Reconciler, type ObjectStatus } from '../reconcile/reconciler.js';
import { DenyLog } from './deny-log.js';
import { cutElementsScript } from './nft-script.js';
import type { FqdnMap } from './peers.js';
import { TableOps } from './table-ops.js';
import type { DenyRecord, EnforceWorkload, ProtectSpec } from './types.js';

export interface CutRequest {
  workloadId: string;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  proto: number;
}

export interface EnforcerOptions {
  runner: CommandRunner;
  /** Whether a table exists; default netlink from this process. */
  rtnl?: Rtnl;
  onDeny(record: DenyRecord): void;
  onStatus?(status: ObjectStatus): void;
  /** A table is in the kernel as `spec` says (after every successful update). */
  onApplied?(spec: ProtectSpec): void;
  onError?(message: string): void;
  /** Deny-log reader command per namespace (tests); default nsenter + tcpdump. */
  denyLogCommand?(netns: string): string[];
  refreshMs?: number;
}

export class Enforcer {
  readonly tables: Reconciler<ProtectSpec>;
  readonly denyLog: DenyLog;
  private workloads: EnforceWorkload[] = [];
  private fqdn: FqdnMap = new Map();
  private readonly applied = new Set<string>();
  /** Workloads whose table in the kernel is a provisional one. */
  private readonly provisional = new Set<string>();
  private readonly ops: TableOps;

  constructor(private readonly opts: EnforcerOptions) {
    const ops = (this.ops = new TableOps(opts.runner, opts.rtnl ?? new NetlinkRtnl(), () => this.workloads.map((w) => w.netns), (spec) => {
      this.applied.add(spec.workloadId);
      if (spec.provisional) this.provisional.add(spec.workloadId);
      else this.provisional.delete(spec.workloadId);
      opts.onApplied?.(spec);
    }));
    this.tables = new Reconciler('protect', ops, {
      key: (s) => s.workloadId,
      equal: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      // The controller's rule set replacing a stand-in is as urgent as a new table: it does not
      // wait behind the rewrites of every other member a new peer caused.
      urgent: (s) => !s.provisional && this.provisional.has(s.workloadId),
      refreshMs: opts.refreshMs,
      onStatus: (s) => {
        // The table (and its cut sets) exists from the first apply until it is deleted.
        if (s.deleting) {
          this.applied.delete(s.key);
          this.provisional.delete(s.key);
        }
        opts.onStatus?.(s);
      },
    });
    this.denyLog = new DenyLog({
      onDeny: opts.onDeny,
      onError: (id, m) => opts.onError?.(`deny log of ${id}: ${m}`),
      command: opts.denyLogCommand,
    });
  }

  setWorkloads(workloads: readonly EnforceWorkload[]): void {
    this.workloads = [...workloads];
    this.apply();
  }

  /** Domain → addresses (from the controller and DNS answers the DP saw). */
  setFqdn(map: FqdnMap): void {
    this.fqdn = map;
    this.apply();
  }

  /**
   * Resets a flow the DP found denied once its application was known: both directions of it go
   * into the timed cut set of the workload's table. Only Protect workloads have one.
   */
  async cut(req: CutRequest): Promise<boolean> {
    const w = this.workloads.find((x) => x.workloadId === req.workloadId);
    if (!w || w.mode !== 'protect' || !this.applied.has(w.workloadId)) return false;
    const c = parseCidr(req.client);
    if (!c) return false;
    const v6 = !(c.words[0] === 0 && c.words[1] === 0 && c.words[2] === 0xffff);
    const script = cutElementsScript({ v6, saddr: req.client, daddr: req.server, proto: req.proto, sport: req.clientPort, dport: req.serverPort });
    this.ops.forget(w.netns);
    await this.opts.runner.run(inNetns(w.netns, ['nft', '-f', '-']), { input: script });
    return true;
  }

  start(): void {
    this.tables.start();
  }

  async stop(): Promise<void> {
    this.denyLog.stop();
    await this.tables.stop();
  }

  /** Applies what is due now (tests, first start). */
  settle(): Promise<void> {
    return this.tables.settle();
  }

  statuses(): ObjectStatus[] {
    return this.tables.statuses();
  }

  private apply(): void {
    const protect = this.workloads.filter((w) => w.mode === 'protect');
    this.tables.setDesired(protect.map((w) => this.spec(w)));
    this.denyLog.set(new Map(protect.map((w) => [w.workloadId, w.netns])));
  }

  private spec(w: EnforceWorkload): ProtectSpec {
    const names = new Set<string>();
    for (const r of w.rules) for (const p of [...r.from, ...r.to]) if (p !== 'any' && !parseCidr(p)) names.add(p.toLowerCase());
    const fqdn: [string, string[]][] = [];
    for (const [name, ips] of this.fqdn) {
      const n = name.toLowerCase();
      const named = names.has(n) || [...names].some((p) => p.startsWith('*.') && n.endsWith(p.slice(1)));
      if (named) fqdn.push([n, [...ips].sort()]);
    }
    fqdn.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return { workloadId: w.workloadId, netns: w.netns, ips: [...w.ips].sort(), rules: w.rules, fqdn, provisional: w.provisional ?? false };
  }
}
