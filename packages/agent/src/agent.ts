/**
 * The agent's parts wired together: the Docker runtime fills the workload table; plumbing
 * follows the table; the controller link reports the table and hands policy updates on.
 *
 * Plumbing starts only once the table has synced: its first pass prunes what is not desired,
 * and before the sync that would be the taps of containers not loaded yet.
 */
import { hostname } from 'node:os';
import Dockerode from 'dockerode';
import type { AgentOptions } from './cli/options.js';
import { ControllerLink, type AgentStatus } from './link/controller-link.js';
import type { PolicyUpdate } from './link/policy-store.js';
import { ExecRunner } from './plumbing/command.js';
import { Plumbing } from './plumbing/plumbing.js';
import type { PlumbingWorkload } from './plumbing/types.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { WorkloadTable } from './runtime/table.js';
import type { Workload } from './runtime/types.js';

export const AGENT_VERSION = '0.1.0';

/** Only running workloads with their own namespace are plumbed (see plumbing/types.ts). */
export function plumbingWorkloads(workloads: readonly Workload[]): PlumbingWorkload[] {
  return workloads.filter((w) => w.state === 'running' && w.netns !== '').map((w) => ({ id: w.id, netns: w.netns, interfaces: w.interfaces }));
}

export class Agent {
  readonly table = new WorkloadTable();
  readonly runtime: DockerRuntime;
  readonly plumbing: Plumbing;
  readonly link: ControllerLink;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(
    opts: AgentOptions,
    private readonly log: (message: string) => void,
  ) {
    const runner = new ExecRunner();
    const host = hostname();
    this.runtime = new DockerRuntime({ docker: new Dockerode({ socketPath: opts.dockerSocket }), table: this.table, runner, host, log });
    this.plumbing = new Plumbing({
      runner,
      netnsName: opts.captureNetns,
      onStatus: (kind, s) => {
        if (s.kind === 'error') log(`plumbing: ${kind} ${s.key}: ${s.message}`);
      },
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
    this.runtime.start();
    this.link.start();
    await this.table.synced();
    if (this.stopped) return;
    this.plumbing.setWorkloads(plumbingWorkloads(this.table.list()));
    this.unsubscribe = this.table.subscribe(() => this.plumbing.setWorkloads(plumbingWorkloads(this.table.list())));
    this.plumbing.start();
    this.log(`agent: ${this.table.size} workloads loaded; plumbing started`);
  }

  /** Stops the loops; what is in the kernel stays (taps, mirrors, tables keep working). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.link.stop();
    await this.runtime.stop();
    await this.plumbing.stop();
  }

  private applyPolicy(u: PolicyUpdate): void {
    const protect = [...u.all.values()].filter((p) => p.mode === 'protect').length;
    this.log(`agent: policy revision ${u.revision}: ${u.all.size} rule sets (${protect} Protect), ${u.changed.length} changed, ${u.removed.length} removed`);
  }

  private status(): AgentStatus {
    const { base, taps } = this.plumbing.statuses();
    const problems = [...base, ...taps].filter((s) => s.kind === 'error').map((s) => `plumbing ${s.key}: ${s.message}`);
    const running = new Set(this.table.list().filter((w) => w.state === 'running').map((w) => w.id));
    const protectedWorkloads = [...running].filter((id) => this.link.policy.get(id)?.mode === 'protect').length;
    return { protectedWorkloads, dataPlane: { running: false, restarts: 0, packets: 0, drops: 0, sessions: 0 }, problems };
  }
}
