/**
 * The agent's parts wired together. The Docker runtime fills the workload table; plumbing,
 * enforcement and the controller link follow the table; the policy watch stream feeds the data
 * plane and the enforcer; what the data plane and the kernel's deny log report goes to the link's
 * bounded queue. The DNS answers the data plane saw resolve the domain peers of Protect tables and
 * go to the controller's domain groups.
 *
 * Order at start, each step for a reason:
 * - Plumbing starts once the table has synced: its first pass prunes what is not desired, and
 *   before the sync that would be the taps of containers not loaded yet.
 * - The data plane starts once the capture namespace exists: it opens its capture socket
 *   inside that namespace.
 * - The enforcer starts once the first policy message has been applied: its first pass prunes
 *   tables of non-Protect workloads, and before the policy is known every workload would look
 *   non-Protect, so a restarted agent would open every Protect container until the controller
 *   answered. Until then the tables an earlier run left keep enforcing (fail-secure).
 * Everything is level-triggered: any change recomputes the desired sets from the table and the
 * current policy, so a restart after SIGKILL is one more ordinary reconcile.
 *
 * A new container of a service known to be in Protect is enforced before its own rule set arrives,
 * with a provisional table (enforce/provisional.ts): no unprotected start-up window.
 */
import { hostname } from 'node:os';
import Dockerode from 'dockerode';
import type { DnsAnswerRecord, DpMessage } from '@mseg/dp';
import type { AgentOptions } from './cli/options.js';
import { LearnedNames } from './dp/learned-names.js';
import { DpSupervisor } from './dp/supervisor.js';
import { Enforcer } from './enforce/enforcer.js';
import { ServiceModes } from './enforce/provisional.js';
import type { DenyRecord, EnforceWorkload } from './enforce/types.js';
import type { WorkloadPolicySpec } from './link/convert.js';
import { ControllerLink, type AgentStatus } from './link/controller-link.js';
import type { PolicyUpdate } from './link/policy-store.js';
import type { ReportQueue, ViolationRecord } from './link/report-queue.js';
import { ExecRunner } from './plumbing/command.js';
import { NetlinkRtnl } from './plumbing/netlink/netlink-rtnl.js';
import { bypassMapPath } from './plumbing/names.js';
import { Plumbing } from './plumbing/plumbing.js';
import type { ObjectStatus } from './reconcile/reconciler.js';
import type { PlumbingWorkload, TapSpec } from './plumbing/types.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { WorkloadTable } from './runtime/table.js';
import type { Workload } from './runtime/types.js';

export const AGENT_VERSION = '0.1.0';

/** How often the data plane pushes its counters (for the heartbeat; the controller's interval is 5 s). */
const DP_STATS_INTERVAL_S = 5;

/** How often DNS answers past their TTL leave the Protect tables' FQDN map. */
const DNS_EXPIRY_CHECK_MS = 30_000;

/** Only running workloads with their own namespace are plumbed (see plumbing/types.ts). */
export function plumbingWorkloads(workloads: readonly Workload[]): PlumbingWorkload[] {
  return workloads.filter((w) => w.state === 'running' && w.netns !== '').map((w) => ({ id: w.id, netns: w.netns, interfaces: w.interfaces }));
}

/**
 * Every running workload for the enforcer: Protect ones get a table; the others are listed too,
 * so prune may clear a table an earlier mode left in their namespace. No rule set yet is Monitor
 * (never block on a policy nobody chose) unless the workload's service is known to be in Protect:
 * then it gets the provisional rules `services` gives until its own arrive.
 */
export function enforceWorkloads(workloads: readonly Workload[], policies: ReadonlyMap<string, WorkloadPolicySpec>, services?: ServiceModes): EnforceWorkload[] {
  return workloads
    .filter((w) => w.state === 'running' && w.netns !== '')
    .map((w) => {
      const ips = w.interfaces.flatMap((i) => i.ips);
      const p = policies.get(w.id);
      if (p) return { workloadId: w.id, netns: w.netns, ips, mode: p.mode, rules: p.rules };
      const rules = services?.provisional(w.service, ips) ?? null;
      if (rules) return { workloadId: w.id, netns: w.netns, ips, mode: 'protect', rules, provisional: true };
      return { workloadId: w.id, netns: w.netns, ips, mode: 'monitor', rules: [] };
    });
}

/** A kernel drop as the controller's violation: the dropped packet is the client's (established flows pass). */
export function denyToViolation(d: DenyRecord): ViolationRecord {
  return {
    workloadId: d.workloadId,
    client: d.src,
    server: d.dst,
    clientPort: d.srcPort,
    serverPort: d.dstPort,
    proto: d.proto,
    ruleId: d.ruleId,
    direction: d.direction,
    ts: d.at / 1000,
    count: 1,
  };
}

/**
 * The DP's DNS answers: the enforcer resolves domain peers with the new map (only when a pair is
 * new: a refreshed TTL changes no table), and the controller gets them with the next report.
 */
export function followDns(names: LearnedNames, answers: readonly DnsAnswerRecord[], now: number, enforcer: Enforcer, reports: ReportQueue): void {
  if (names.learn(answers, now)) enforcer.setFqdn(names.map());
  reports.pushDnsAnswers(answers);
}

type DpStats = Extract<DpMessage, { type: 'stats' }>;

/** Status changes of the agent's objects, for whoever embeds it (benchmarks, a status API). */
export interface AgentObserver {
  onTap?(status: ObjectStatus): void;
  onProtect?(status: ObjectStatus): void;
  /** A Protect table is in the kernel: provisional (before the controller's rule set) or not. */
  onProtectApplied?(workloadId: string, provisional: boolean): void;
}

export class Agent {
  readonly table = new WorkloadTable();
  readonly runtime: DockerRuntime;
  readonly plumbing: Plumbing;
  readonly dp: DpSupervisor;
  readonly enforcer: Enforcer;
  readonly link: ControllerLink;
  /** Host-side ifindex of each tap's nv-in port, by tap name: what the DP knows the port by. */
  private readonly ports = new Map<string, number>();
  private policies: ReadonlyMap<string, WorkloadPolicySpec> = new Map();
  private readonly services = new ServiceModes();
  private policyApplied = false;
  private lastStats: DpStats | null = null;
  private readonly names = new LearnedNames();
  private dnsExpiry: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(
    opts: AgentOptions,
    private readonly log: (message: string) => void,
    observer: AgentObserver = {},
  ) {
    const runner = new ExecRunner();
    const rtnl = new NetlinkRtnl();
    const host = hostname();
    this.runtime = new DockerRuntime({ docker: new Dockerode({ socketPath: opts.dockerSocket }), table: this.table, rtnl, host, log, onlyLabel: opts.onlyLabel });
    this.dp = new DpSupervisor({
      socket: opts.dpSocket,
      netns: opts.captureNetns,
      bypassMap: bypassMapPath(opts.captureNetns),
      config: { statsInterval: DP_STATS_INTERVAL_S },
      onConnections: (m) => {
        this.link.reports.pushConnections(m.items);
        this.link.flushSoon();
      },
      onDns: (m) => {
        followDns(this.names, m.items, Date.now(), this.enforcer, this.link.reports);
        this.link.flushSoon();
      },
      onThreats: (m) => this.link.reports.pushThreats(m.items),
      onCut: (m) => {
        this.enforcer.cut(m).catch((err: unknown) => log(`agent: cut of ${m.client}:${m.clientPort} → ${m.server}:${m.serverPort} failed: ${String(err)}`));
      },
      onStats: (m) => (this.lastStats = m),
      onLog: log,
    });
    this.plumbing = new Plumbing({
      runner,
      rtnl,
      netnsName: opts.captureNetns,
      onStatus: (kind, s) => {
        if (s.kind === 'error') log(`plumbing: ${kind} ${s.key}: ${s.message}`);
        if (kind === 'tap') observer.onTap?.(s);
        // The DP captures inside the namespace the base makes; start() is a no-op once running.
        if (kind === 'base' && s.kind === 'done' && !this.stopped) this.dp.start();
      },
      onReady: (tap, ifindex) => this.portReady(tap, ifindex),
      onRemoved: (tap) => this.portRemoved(tap),
    });
    this.enforcer = new Enforcer({
      runner,
      rtnl,
      onDeny: (d) => this.link.reports.pushViolations([denyToViolation(d)]),
      onStatus: (s) => {
        if (s.kind === 'error') log(`enforce: ${s.key}: ${s.message}`);
        observer.onProtect?.(s);
      },
      onApplied: (spec) => observer.onProtectApplied?.(spec.workloadId, spec.provisional),
      onError: (m) => log(`enforce: ${m}`),
    });
    this.link = new ControllerLink({
      baseUrl: opts.controllerUrl,
      joinToken: opts.joinToken,
      dataDir: opts.dataDir,
      host,
      version: AGENT_VERSION,
      table: this.table,
      onPolicy: (u) => this.applyPolicy(u),
      status: () => this.status(),
      log,
    });
  }

  async start(): Promise<void> {
    this.dnsExpiry = setInterval(() => {
      if (this.names.expire(Date.now())) this.enforcer.setFqdn(this.names.map());
    }, DNS_EXPIRY_CHECK_MS);
    this.runtime.start();
    this.link.start();
    await this.table.synced();
    if (this.stopped) return;
    this.follow();
    this.unsubscribe = this.table.subscribe(() => this.follow());
    this.plumbing.start();
    this.log(`agent: ${this.table.size} workloads loaded; plumbing started`);
  }

  /** Stops the loops and the DP; what is in the kernel stays (taps, mirrors, tables keep working). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.dnsExpiry) clearInterval(this.dnsExpiry);
    this.unsubscribe?.();
    await this.link.stop();
    await this.runtime.stop();
    await this.enforcer.stop();
    await this.plumbing.stop();
    await this.dp.stop();
  }

  /** Recomputes every desired set from the table and the current policy. */
  private follow(): void {
    const all = this.table.list();
    const known = all.filter((w) => w.netns !== '').map((w) => w.netns);
    this.plumbing.setWorkloads(plumbingWorkloads(all), known);
    this.enforcer.setWorkloads(this.enforceWorkloads(all));
  }

  private enforceWorkloads(all: readonly Workload[]): EnforceWorkload[] {
    this.services.learn(
      all.map((w) => ({ id: w.id, service: w.service, ips: w.interfaces.flatMap((i) => i.ips) })),
      this.policies,
    );
    return enforceWorkloads(all, this.policies, this.services);
  }

  private portReady(tap: TapSpec, ifindex: number): void {
    const before = this.ports.get(tap.inName);
    // A re-made pair has a new ifindex: the old port is gone from the DP's point of view too.
    if (before !== undefined && before !== ifindex) this.dp.removePort(before);
    this.ports.set(tap.inName, ifindex);
    this.dp.setPort(ifindex, { workloadId: tap.workloadId, macs: [tap.mac], ips: tap.ips });
  }

  private portRemoved(tap: TapSpec): void {
    const ifindex = this.ports.get(tap.inName);
    if (ifindex === undefined) return;
    this.ports.delete(tap.inName);
    this.dp.removePort(ifindex);
  }

  private applyPolicy(u: PolicyUpdate): void {
    for (const id of u.removed) this.dp.removePolicy(id);
    for (const p of u.changed) this.dp.setPolicy(p.workloadId, p.mode, p.rules, Number(u.revision));
    this.policies = u.all;
    this.enforcer.setWorkloads(this.enforceWorkloads(this.table.list()));
    if (!this.policyApplied && !this.stopped) {
      this.policyApplied = true;
      this.enforcer.start();
    }
    const protect = [...u.all.values()].filter((p) => p.mode === 'protect').length;
    this.log(`agent: policy revision ${u.revision}: ${u.all.size} rule sets (${protect} Protect), ${u.changed.length} changed, ${u.removed.length} removed`);
  }

  private status(): AgentStatus {
    const { base, taps } = this.plumbing.statuses();
    const problems = [
      ...[...base, ...taps].filter((s) => s.kind === 'error').map((s) => `plumbing ${s.key}: ${s.message}`),
      ...this.enforcer.statuses().filter((s) => s.kind === 'error').map((s) => `protect ${s.key}: ${s.message}`),
    ];
    const dp = this.dp.status();
    if (dp.state !== 'connected' && dp.lastError) problems.push(`data plane: ${dp.lastError}`);
    const running = new Set(this.table.list().filter((w) => w.state === 'running').map((w) => w.id));
    const protectedWorkloads = [...running].filter((id) => this.policies.get(id)?.mode === 'protect').length;
    const c = this.lastStats?.counters;
    // The ring's own drop counter: frames the kernel could not hand to the DP.
    const drops = this.lastStats?.capture?.drops ?? 0;
    return {
      protectedWorkloads,
      dataPlane: { running: dp.state === 'connected', restarts: dp.restarts, packets: c?.packets ?? 0, drops, sessions: c?.sessionsActive ?? 0 },
      problems,
    };
  }
}
