/**
 * Keeps the WorkloadTable equal to what Docker runs. Level-triggered: Docker events only queue a
 * container id; the loop re-inspects the container (and reads its interfaces in its namespace)
 * and writes the result, so a missed or reordered event costs nothing but latency. A container
 * Docker no longer knows (inspect answers 404) is removed.
 *
 * The event stream is opened before the container list, so nothing that happens between the two
 * is missed; after the stream breaks it is opened again and the list re-read, and a periodic
 * re-list catches anything else.
 */
import type Dockerode from 'dockerode';
import { readInterfaces } from './interfaces.js';
import type { WorkloadTable } from './table.js';
import { NetlinkRtnl } from '../plumbing/netlink/netlink-rtnl.js';
import type { Rtnl } from '../plumbing/netlink/rtnl.js';
import type { WorkloadInterface } from './types.js';
import { WorkQueue } from './work-queue.js';
import { expectedInterfaces, netnsOf, toWorkload, type InspectData } from './workload.js';

/** Container events that can change a workload; network events name their container in Attributes. */
export const CONTAINER_EVENTS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename'];
export const NETWORK_EVENTS = ['connect', 'disconnect'];

export interface DockerRuntimeOptions {
  docker: Dockerode;
  table: WorkloadTable;
  /** Reads container interfaces; default netlink from this process. */
  rtnl?: Rtnl;
  host: string;
  log: (message: string) => void;
  /** Re-list every container this often, ms. */
  resyncMs?: number;
  /** A running container's interfaces that Docker attached but the namespace does not show yet are read again after this, ms. */
  interfaceRetryMs?: number;
  /** Only containers with this label (and value) are workloads; the others are left alone. */
  onlyLabel?: LabelSelector;
}

export interface LabelSelector {
  key: string;
  value: string;
}

/** Whether a container's labels select it (no selector: every container). */
export function selected(labels: Record<string, string> | null | undefined, selector: LabelSelector | undefined): boolean {
  return !selector || labels?.[selector.key] === selector.value;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** The container id an event is about, or null for events that concern no container. */
export function containerOfEvent(e: DockerEvent): string | null {
  if (e.Type === 'container' && e.Action && CONTAINER_EVENTS.includes(e.Action)) return e.Actor?.ID ?? null;
  if (e.Type === 'network' && e.Action && NETWORK_EVENTS.includes(e.Action)) return e.Actor?.Attributes?.container ?? null;
  return null;
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** Tries within which missing interfaces are waited for; after that the workload keeps what the namespace shows. */
const INTERFACE_TRIES = 20;

export class DockerRuntime {
  private readonly queue: WorkQueue;
  private readonly rtnl: Rtnl;
  private readonly interfaceTries = new Map<string, number>();
  private stream: NodeJS.ReadableStream | null = null;
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | null = null;
  /** Ids of the first list not yet loaded; the table is synced when it empties. */
  private initial: Set<string> | null = null;
  private eventsLoop: Promise<void> | null = null;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.rtnl = opts.rtnl ?? new NetlinkRtnl();
    this.queue = new WorkQueue((id) => this.reconcile(id), {
      onError: (id, err, ms) => opts.log(`runtime: container ${id.slice(0, 12)}: ${String(err)}; retry in ${ms} ms`),
    });
  }

  start(): void {
    this.eventsLoop = this.followEvents();
    const every = this.opts.resyncMs ?? 60_000;
    this.resyncTimer = setInterval(() => void this.relist().catch((err) => this.opts.log(`runtime: re-list failed: ${String(err)}`)), every);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.stop();
    (this.stream as unknown as { destroy?: () => void } | null)?.destroy?.();
    await this.eventsLoop;
  }

  /** Resolves once nothing is queued or being inspected (tests and benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async followEvents(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      try {
        const stream = await this.opts.docker.getEvents({ filters: { type: ['container', 'network'], event: [...CONTAINER_EVENTS, ...NETWORK_EVENTS] } });
        this.stream = stream;
        if (this.stopped) break;
        await this.relist();
        backoff = 500;
        await this.consume(stream);
        if (!this.stopped) this.opts.log('runtime: Docker event stream ended; reconnecting');
      } catch (err) {
        if (!this.stopped) this.opts.log(`runtime: Docker events: ${String(err)}; retry in ${backoff} ms`);
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 30_000);
    }
  }

  private async consume(stream: NodeJS.ReadableStream): Promise<void> {
    let buffered = '';
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        let event: DockerEvent;
        try {
          event = JSON.parse(line) as DockerEvent;
        } catch {
          this.opts.log(`runtime: unreadable Docker event: ${line.slice(0, 200)}`);
          continue;
        }
        const id = containerOfEvent(event);
        if (id) this.queue.add(id);
      }
    }
  }

  /** Queues every container Docker lists and every one the table holds (gone ones are removed). */
  private async relist(): Promise<void> {
    const listed = await this.opts.docker.listContainers({ all: true });
    const ids = new Set(listed.map((c) => c.Id));
    for (const w of this.opts.table.list()) ids.add(w.id);
    if (!this.opts.table.hasSynced && this.initial === null) {
      this.initial = new Set(ids);
      if (ids.size === 0) this.opts.table.setSynced();
    }
    for (const id of ids) this.queue.add(id);
  }

  private async reconcile(id: string): Promise<number | void> {
    let c: InspectData;
    try {
      c = (await this.opts.docker.getContainer(id).inspect()) as unknown as InspectData;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.opts.table.remove(id);
      this.loaded(id);
      return;
    }
    if (!selected(c.Config?.Labels, this.opts.onlyLabel)) {
      // Another agent's (or nobody's): never plumbed, enforced or reported by this one.
      this.opts.table.remove(id);
      this.loaded(id);
      return;
    }
    let interfaces: WorkloadInterface[] = [];
    let readError = '';
    let again: number | undefined;
    if (netnsOf(c) && expectedInterfaces(c) > 0) {
      try {
        interfaces = await readInterfaces(this.rtnl, c.State.Pid);
      } catch (err) {
        // Most often the container just exited: its die event re-queues it. Otherwise the reason
        // is shown and the read retried.
        readError = err instanceof Error ? err.message : String(err);
        again = 5_000;
      }
      // Docker can report a network attached a moment before its interface shows in the namespace.
      const tries = this.interfaceTries.get(id) ?? 0;
      if (!readError && interfaces.length < expectedInterfaces(c) && tries < INTERFACE_TRIES) {
        this.interfaceTries.set(id, tries + 1);
        again = this.opts.interfaceRetryMs ?? 100;
      } else {
        this.interfaceTries.delete(id);
      }
    }
    this.opts.table.upsert(toWorkload(c, this.opts.host, interfaces, readError));
    this.loaded(id);
    return again;
  }

  private loaded(id: string): void {
    if (!this.initial?.delete(id) || this.initial.size > 0) return;
    this.initial = null;
    this.opts.table.setSynced();
  }
}
