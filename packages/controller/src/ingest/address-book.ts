/**
 * Which workload owns an address, for turning the IPs of connection records into workloads.
 * Loaded once from the store and kept until a 'workloads' or 'agents' event says it changed, so
 * ingest never queries per record.
 *
 * Container bridge addresses repeat across hosts (172.17.0.2 is on every Docker host), so an
 * address resolves to the workload on the reporting host first; elsewhere only when exactly one
 * workload has it (overlay networks), never by guessing between several.
 *
 * A workload stopped in the last STOPPED_KEPT_MS still owns its addresses for what is reported
 * after it (tombstone): the server's data plane reports a short-lived client's sessions up to an
 * interval after the client is gone, and the agent's queue can hold them longer. Docker gives a
 * freed address to the next container at once, so one address can have had several owners on a
 * host within seconds: a record with a capture time goes to the owner that was reported last
 * before that time (allowing REPORT_LAG_MS for the agent to report a start); without a time, a
 * running owner wins over a stopped one.
 */
import { canonicalIp } from '../policy/membership.js';
import { EXTERNAL, NODES, serviceGroupName } from '../policy/model.js';
import type { Context } from '../server/context.js';

/** How long a stopped workload keeps its addresses in the book. */
export const STOPPED_KEPT_MS = 10 * 60_000;
/** How much later than its first packets a new workload can be stored (agent's inspect and report). */
export const REPORT_LAG_MS = 1000;

export interface WorkloadRef {
  id: string;
  host: string;
  name: string;
  service: string;
  /** Running with its traffic mirrored to a data plane (not stopped, not host network or paused). */
  monitored: boolean;
  /** Stopped: owns its addresses only where no running workload has them. */
  stopped: boolean;
  /** When the controller first stored it (ms). */
  createdAt: number;
  agentId: string;
}

/**
 * What an end of a conversation is on the rolled-up map, fixed at ingest: a service group, a
 * workload not known (yet) to the controller, or an outside address (a node's or external).
 */
export const NODE_GROUP = 0;
export const NODE_WORKLOAD = 1;
export const NODE_EXTERNAL = 2;
export const NODE_HOST = 3;

export interface EdgeEnds {
  client: string;
  clientKind: number;
  server: string;
  serverKind: number;
}

export class AddressBook {
  private byIp = new Map<string, WorkloadRef[]>();
  readonly byId = new Map<string, WorkloadRef>();
  private onlineAgents = new Set<string>();
  /** Addresses of the hosts (as the policy's `nodes` group has them), for the rolled-up map. */
  private nodeIps = new Set<string>();

  static async load(ctx: Context): Promise<AddressBook> {
    const db = ctx.store.db;
    const [workloads, agents] = await Promise.all([
      db
        .selectFrom('workloads')
        .select(['id', 'host', 'name', 'service', 'interfaces', 'state', 'agent_id', 'created_at'])
        .where((eb) => eb.or([eb('state', '!=', 'stopped'), eb('updated_at', '>=', ctx.now() - STOPPED_KEPT_MS)]))
        .execute(),
      db.selectFrom('agents').select(['id', 'host', 'state']).where('state', '!=', 'revoked').execute(),
    ]);
    const book = new AddressBook();
    const hostIp = (h: string) => {
      const ip = canonicalIp(h);
      if (ip !== null && !h.includes('/')) book.nodeIps.add(ip);
    };
    for (const a of agents) {
      if (a.state === 'online') book.onlineAgents.add(a.id);
      hostIp(a.host);
    }
    for (const w of workloads) {
      hostIp(w.host);
      const ref: WorkloadRef = { id: w.id, host: w.host, name: w.name, service: w.service, monitored: w.state === 'running', stopped: w.state === 'stopped', createdAt: Number(w.created_at), agentId: w.agent_id };
      book.byId.set(w.id, ref);
      for (const iface of JSON.parse(w.interfaces) as { ips?: string[] }[]) {
        for (const text of iface.ips ?? []) {
          const ip = canonicalIp(text);
          if (ip === null) continue;
          const list = book.byIp.get(ip);
          if (!list) book.byIp.set(ip, [ref]);
          else if (!list.includes(ref)) list.push(ref);
        }
      }
    }
    return book;
  }

  /**
   * The workload that owns `ip` as seen from `host` (at capture time `at`, ms, when given), or
   * undefined for an outside address.
   */
  resolve(ip: string, host: string, at?: number): WorkloadRef | undefined {
    const list = this.byIp.get(ip);
    if (!list) return undefined;
    if (list.length === 1) return list[0];
    if (at !== undefined) {
      const owner = ownerAt(list, host, at);
      if (owner) return owner;
    }
    const running = this.owner(list, host, false);
    return running !== null ? running : this.owner(list, host, true) ?? undefined;
  }

  /**
   * Among the running (or stopped) holders of an address: the only one, else the only one on
   * `host`, else undefined. `null` when there is no such holder at all.
   */
  private owner(list: readonly WorkloadRef[], host: string, stopped: boolean): WorkloadRef | undefined | null {
    let any: WorkloadRef | null = null;
    let count = 0;
    let local: WorkloadRef | undefined;
    let localCount = 0;
    for (const w of list) {
      if (w.stopped !== stopped) continue;
      any = w;
      count++;
      if (w.host === host) {
        local = w;
        localCount++;
      }
    }
    if (count === 0) return null;
    if (count === 1) return any!;
    return localCount === 1 ? local : undefined;
  }

  /** Whether this workload's own data plane reports its traffic now (monitored, agent online). */
  reports(w: WorkloadRef | undefined): boolean {
    return w !== undefined && w.monitored && this.onlineAgents.has(w.agentId);
  }

  /**
   * The ends of a conversation on the rolled-up map: a known workload's service group, an
   * unknown workload as itself, an outside address as `nodes` or `external`.
   */
  edgeEnds(client: string, clientIp: string, server: string, serverIp: string): EdgeEnds {
    const [c, clientKind] = this.mapEnd(client, clientIp);
    const [s, serverKind] = this.mapEnd(server, serverIp);
    return { client: c, clientKind, server: s, serverKind };
  }

  private mapEnd(workload: string, ip: string): [string, number] {
    if (workload === '') return this.nodeIps.has(ip) ? [NODES, NODE_HOST] : [EXTERNAL, NODE_EXTERNAL];
    const ref = this.byId.get(workload);
    return ref ? [serviceGroupName(ref.service), NODE_GROUP] : [workload, NODE_WORKLOAD];
  }

  get workloadCount(): number {
    return this.byId.size;
  }
}

/**
 * Of the owners on `host`: the one stored last before `at` (+ REPORT_LAG_MS), else the first one
 * stored after it; undefined when none is on `host`.
 */
function ownerAt(list: readonly WorkloadRef[], host: string, at: number): WorkloadRef | undefined {
  let before: WorkloadRef | undefined;
  let after: WorkloadRef | undefined;
  for (const w of list) {
    if (w.host !== host) continue;
    if (w.createdAt <= at + REPORT_LAG_MS) {
      if (!before || w.createdAt > before.createdAt) before = w;
    } else if (!after || w.createdAt < after.createdAt) after = w;
  }
  return before ?? after;
}

interface Cached {
  /** Bumped by every event that can change the book; a load started at an older one is stale. */
  generation: number;
  loaded: { generation: number; book: Promise<AddressBook> } | null;
}

const cache = new WeakMap<Context, Cached>();

/** The current address book of this controller, reloaded after workloads or agents changed. */
export function addressBook(ctx: Context): Promise<AddressBook> {
  let c = cache.get(ctx);
  if (!c) {
    const fresh: Cached = { generation: 0, loaded: null };
    ctx.events.on('workloads', () => fresh.generation++);
    ctx.events.on('agents', () => fresh.generation++);
    cache.set(ctx, fresh);
    c = fresh;
  }
  if (c.loaded && c.loaded.generation === c.generation) return c.loaded.book;
  const entry = { generation: c.generation, book: AddressBook.load(ctx) };
  c.loaded = entry;
  const owner = c;
  entry.book.catch(() => {
    if (owner.loaded === entry) owner.loaded = null;
  });
  return entry.book;
}
