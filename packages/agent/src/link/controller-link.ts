/**
 * The agent's link to the controller (gRPC AgentService, the agent dials out).
 *
 * One session at a time: register when there is no identity yet (or the controller refused it),
 * send the full workload set, then run side by side until something fails: heartbeats, workload
 * increments as the table changes, reports drained from the bounded queue every interval
 * (violations, then connections, then threats), and the WatchPolicy stream, each message applied
 * through `onPolicy` before the next is read. A failed session is retried with exponential
 * backoff (1 s → 30 s, jittered). Report batches keep their id until acknowledged, so a batch
 * whose answer was lost is sent again under the same id and not counted twice.
 */
import { randomBytes } from 'node:crypto';
import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { AgentService } from '@mseg/proto';
import type { WorkloadTable } from '../runtime/table.js';
import type { Workload } from '../runtime/types.js';
import { connectionToProto, dnsAnswerToProto, threatToProto, violationToProto, workloadToProto } from './convert.js';
import { PolicyStore, type PolicyUpdate } from './policy-store.js';
import { ReportQueue, type ReportItem, type ReportKind } from './report-queue.js';
import { loadIdentity, saveIdentity, type AgentIdentity } from './state.js';

export interface AgentStatus {
  protectedWorkloads: number;
  dataPlane: { running: boolean; restarts: number; packets: number; drops: number; sessions: number };
  problems: string[];
}

export interface ControllerLinkOptions {
  /** `http://host:port` of the controller's gRPC endpoint. */
  baseUrl: string;
  joinToken: string;
  dataDir: string;
  host: string;
  version: string;
  table: WorkloadTable;
  /** Applies a policy update (reconcilers, DP); the stream waits for it. A throw ends the session. */
  onPolicy: (update: PolicyUpdate) => Promise<void> | void;
  status: () => AgentStatus;
  log: (message: string) => void;
  queue?: ReportQueue;
  /** Records per report call. */
  batchSize?: number;
  backoff?: { minMs: number; maxMs: number };
}

const DEFAULT_INTERVAL_S = 5;
const CALL_TIMEOUT_MS = 15_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Wakes a waiting loop; a wake while nobody waits is remembered as one. */
class Wake {
  private pending = false;
  private resolve: (() => void) | null = null;

  fire(): void {
    this.pending = true;
    this.resolve?.();
    this.resolve = null;
  }

  /** Resolves on a wake, on abort, or after `timeoutMs` when given. */
  async wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (!this.pending && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          if (timer) clearTimeout(timer);
          if (this.resolve === done) this.resolve = null;
          resolve();
        };
        const timer = timeoutMs === undefined ? null : setTimeout(done, timeoutMs);
        this.resolve = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    this.pending = false;
  }
}

interface Batch<T> {
  id: string;
  items: T[];
}

export class ControllerLink {
  readonly reports: ReportQueue;
  readonly policy = new PolicyStore();
  private readonly client: Client<typeof AgentService>;
  private readonly http2: Http2SessionManager;
  private identity: AgentIdentity | null = null;
  private identityLoaded = false;
  private intervalS = DEFAULT_INTERVAL_S;
  private readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly inflight: { [K in ReportKind]?: Batch<unknown> } = {};
  /** Workloads changed since the last report: the workload, or null when removed. */
  private pendingWorkloads = new Map<string, Workload | null>();
  private readonly workloadsChanged = new Wake();
  private readonly reportsReady = new Wake();
  private readonly stopping = new AbortController();
  private session: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private connectedFlag = false;

  constructor(private readonly opts: ControllerLinkOptions) {
    this.reports = opts.queue ?? new ReportQueue();
    const auth: Interceptor = (next) => async (req) => {
      if (req.method.name !== 'Register' && this.identity) req.header.set('authorization', `Bearer ${this.identity.agentId}.${this.identity.credential}`);
      return next(req);
    };
    // HTTP/2 pings notice a controller that vanished without closing the connection (the
    // policy watch stream would otherwise wait on it forever).
    this.http2 = new Http2SessionManager(opts.baseUrl, { pingIntervalMs: 10_000, pingTimeoutMs: 10_000 });
    this.client = createClient(AgentService, createGrpcTransport({ baseUrl: opts.baseUrl, interceptors: [auth], sessionManager: this.http2 }));
  }

  /** True while a session is up (registered, workloads sent). */
  get connected(): boolean {
    return this.connectedFlag;
  }

  get agentId(): string | null {
    return this.identity?.agentId ?? null;
  }

  start(): void {
    this.unsubscribe = this.opts.table.subscribe((c) => {
      this.pendingWorkloads.set(c.workload.id, c.kind === 'removed' ? null : c.workload);
      this.workloadsChanged.fire();
    });
    this.loop = this.run();
  }

  /**
   * Sends what is queued now instead of at the end of the interval: the data plane's batches
   * already come every interval, so waiting for the link's own timer as well would make a
   * connection up to two intervals old before the controller sees it.
   */
  flushSoon(): void {
    this.reportsReady.fire();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.session?.abort();
    this.unsubscribe?.();
    await this.loop;
    this.http2.abort();
  }

  private async run(): Promise<void> {
    const { minMs, maxMs } = this.opts.backoff ?? { minMs: 1_000, maxMs: 30_000 };
    let backoff = minMs;
    while (!this.stopping.signal.aborted) {
      const session = new AbortController();
      this.session = session;
      let established = false;
      try {
        await this.runSession(session.signal, () => (established = true));
      } catch (err) {
        if (!this.stopping.signal.aborted) this.opts.log(`link: ${describe(err)}; reconnecting in ${backoff} ms`);
      } finally {
        session.abort();
        this.connectedFlag = false;
      }
      if (this.stopping.signal.aborted) break;
      // A session that got through starts the backoff over.
      if (established) backoff = minMs;
      await sleep(backoff * (0.8 + Math.random() * 0.4), this.stopping.signal);
      backoff = Math.min(backoff * 2, maxMs);
    }
  }

  private async runSession(signal: AbortSignal, onEstablished: () => void): Promise<void> {
    const call = { signal, timeoutMs: CALL_TIMEOUT_MS };
    await this.ensureRegistered(call);
    await Promise.race([this.opts.table.synced(), new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    if (signal.aborted) return;
    // A full set covers whatever changed before it: increments start after it.
    this.pendingWorkloads.clear();
    await this.client.reportWorkloads({ full: true, workloads: this.opts.table.list().map(workloadToProto) }, call);
    await this.heartbeat(call);
    this.connectedFlag = true;
    onEstablished();
    this.opts.log(`link: connected to ${this.opts.baseUrl} as agent ${this.identity?.agentId}`);
    // The first loop to fail ends the session; the others stop on the aborted signal.
    const loops = [this.heartbeats(call), this.workloadIncrements(call), this.reporting(call), this.watchPolicy(signal)];
    try {
      await Promise.race(loops.map((p) => p.then(() => Promise.reject(new Error('link loop ended')))));
    } finally {
      this.session?.abort();
      await Promise.allSettled(loops);
    }
  }

  private async ensureRegistered(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    if (!this.identityLoaded) {
      this.identity = await loadIdentity(this.opts.dataDir);
      this.identityLoaded = true;
    }
    if (this.identity?.credential) return;
    const r = await this.client.register(
      { joinToken: this.opts.joinToken, host: this.opts.host, agentVersion: this.opts.version, previousAgentId: this.identity?.agentId ?? '' },
      call,
    );
    this.identity = { agentId: r.agentId, credential: r.credential };
    if (r.reportIntervalSeconds > 0) this.intervalS = r.reportIntervalSeconds;
    await saveIdentity(this.opts.dataDir, this.identity);
    this.opts.log(`link: registered as agent ${r.agentId}`);
  }

  /** An UNAUTHENTICATED answer means the credential is no longer valid: register again next session. */
  private unauthenticated(err: unknown): never {
    if (ConnectError.from(err).code === Code.Unauthenticated && this.identity) this.identity = { agentId: this.identity.agentId, credential: '' };
    throw err;
  }

  private async heartbeat(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    const s = this.opts.status();
    const problems = [...s.problems];
    const { allowed, priority } = this.reports.dropped;
    if (allowed || priority) problems.push(`report queue full: dropped ${allowed} allowed-connection/DNS-answer and ${priority} priority records`);
    try {
      const r = await this.client.heartbeat(
        {
          policyRevision: this.policy.revision,
          workloads: this.opts.table.list().filter((w) => w.state === 'running').length,
          protectedWorkloads: s.protectedWorkloads,
          dataPlane: { ...s.dataPlane, packets: BigInt(s.dataPlane.packets), drops: BigInt(s.dataPlane.drops), sessions: BigInt(s.dataPlane.sessions) },
          problems,
        },
        call,
      );
      if (r.reportIntervalSeconds > 0) this.intervalS = r.reportIntervalSeconds;
    } catch (err) {
      this.unauthenticated(err);
    }
  }

  private async heartbeats(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    while (!call.signal.aborted) {
      await sleep(this.intervalS * 1000, call.signal);
      if (!call.signal.aborted) await this.heartbeat(call);
    }
  }

  private async workloadIncrements(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    while (!call.signal.aborted) {
      await this.workloadsChanged.wait(call.signal);
      if (call.signal.aborted || this.pendingWorkloads.size === 0) continue;
      const batch = this.pendingWorkloads;
      this.pendingWorkloads = new Map();
      const workloads = [...batch.values()].filter((w): w is Workload => w !== null);
      const removedIds = [...batch].filter(([, w]) => w === null).map(([id]) => id);
      try {
        await this.client.reportWorkloads({ full: false, workloads: workloads.map(workloadToProto), removedIds }, call);
      } catch (err) {
        // The next session starts with a full set, which covers this batch.
        this.unauthenticated(err);
      }
    }
  }

  private async reporting(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    while (!call.signal.aborted) {
      await this.reportsReady.wait(call.signal, this.intervalS * 1000);
      if (call.signal.aborted) return;
      await this.flushReports(call);
    }
  }

  /** Sends everything queued, violations first; an unanswered batch is resent under its id. */
  private async flushReports(call: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    await this.flushKind('violation', (batchId, items) => this.client.reportViolations({ batchId, violations: items.map(violationToProto) }, call));
    await this.flushKind('connection', (batchId, items) => this.client.reportConnections({ batchId, connections: items.map(connectionToProto) }, call));
    // DNS answers ride in ReportConnections batches of their own: a batch is resent whole under its id.
    await this.flushKind('dns', (batchId, items) => this.client.reportConnections({ batchId, dnsAnswers: items.map(dnsAnswerToProto) }, call));
    await this.flushKind('threat', (batchId, items) => this.client.reportThreats({ batchId, threats: items.map(threatToProto) }, call));
  }

  private async flushKind<K extends ReportKind>(kind: K, send: (batchId: string, items: ReportItem<K>[]) => Promise<unknown>): Promise<void> {
    const size = this.opts.batchSize ?? 5_000;
    for (;;) {
      let batch = this.inflight[kind] as Batch<ReportItem<K>> | undefined;
      if (!batch) {
        const items = this.reports.take(kind, size);
        if (items.length === 0) return;
        batch = { id: `${this.identity?.agentId}:${this.boot}:${++this.seq}`, items };
        this.inflight[kind] = batch;
      }
      try {
        await send(batch.id, batch.items);
      } catch (err) {
        this.unauthenticated(err);
      }
      delete this.inflight[kind];
    }
  }

  private async watchPolicy(signal: AbortSignal): Promise<void> {
    const agentId = this.identity?.agentId ?? '';
    try {
      for await (const msg of this.client.watchPolicy({ agentId, revision: this.policy.revision }, { signal })) {
        const update = this.policy.prepare(msg);
        await this.opts.onPolicy(update);
        this.policy.commit(update);
      }
    } catch (err) {
      if (signal.aborted) return;
      this.unauthenticated(err);
    }
    if (!signal.aborted) throw new Error('policy watch stream ended');
  }
}

function describe(err: unknown): string {
  if (err instanceof ConnectError) return `[${Code[err.code]}] ${err.rawMessage}`;
  return err instanceof Error ? err.message : String(err);
}
