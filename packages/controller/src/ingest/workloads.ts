/**
 * Workload reports from agents: the full set of an agent's containers (after a (re)connect) or
 * what was added, changed and removed. Rows are written only when something changed, so a full
 * resync of an unchanged host costs no policy recompute; removed workloads are kept as stopped
 * (their conversations still name them).
 */
import { MsegError } from '../errors.js';
import { bumpPolicyRevision } from '../policy/revision.js';
import { ensureServiceGroups } from '../policy/service-groups.js';
import type { Context } from '../server/context.js';
import type { WorkloadsTable } from '../store/schema.js';

export interface WorkloadInterface {
  name: string;
  mac: string;
  ips: string[];
}

export interface ReportedWorkload {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  service: string;
  interfaces: WorkloadInterface[];
  state: 'running' | 'stopped' | 'unmonitored';
  reason: string;
}

export interface WorkloadReport {
  /** `workloads` is the agent's complete set: its other workloads are stopped. */
  full: boolean;
  workloads: ReportedWorkload[];
  removedIds: string[];
}

/** Workloads in one report at most (a host runs hundreds, not tens of thousands). */
export const MAX_WORKLOADS_PER_REPORT = 10_000;
const CHUNK = 500;

type Stored = Pick<WorkloadsTable, 'agent_id' | 'host' | 'name' | 'image' | 'labels' | 'service' | 'interfaces' | 'state' | 'reason'>;

function validate(w: ReportedWorkload, i: number): void {
  const field = (f: string) => `workloads[${i}].${f}`;
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(w.id)) throw new MsegError('MSEG_ERR_VALIDATION', `${field('id')} must be 1-128 of [A-Za-z0-9_.:-]`, field('id'));
  for (const [k, max] of [['name', 256], ['image', 512], ['service', 253], ['reason', 256]] as const) {
    if (w[k].length > max) throw new MsegError('MSEG_ERR_VALIDATION', `${field(k)} is longer than ${max} characters`, field(k));
  }
  if (w.state === 'running' && w.service.length === 0) throw new MsegError('MSEG_ERR_VALIDATION', `${field('service')} is required`, field('service'));
}

function row(agentId: string, host: string, w: ReportedWorkload): Stored {
  return {
    agent_id: agentId,
    host,
    name: w.name,
    image: w.image,
    labels: JSON.stringify(Object.fromEntries(Object.entries(w.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
    service: w.service,
    interfaces: JSON.stringify(w.interfaces.map((f) => ({ name: f.name, mac: f.mac.toLowerCase(), ips: f.ips }))),
    state: w.state,
    reason: w.reason,
  };
}

function same(a: Stored, b: Stored): boolean {
  return (Object.keys(b) as (keyof Stored)[]).every((k) => a[k] === b[k]);
}

/**
 * Stores a report and returns the ids of workloads whose stored state changed. In the same
 * transaction: service groups for new services are made and, when anything changed, the policy
 * revision is bumped (group members, so compiled rule sets, follow workloads). Committed before it
 * returns (the agent's report is acknowledged after); then `workloads` and `policy` events go out.
 */
export async function ingestWorkloads(ctx: Context, agentId: string, host: string, report: WorkloadReport): Promise<string[]> {
  if (report.workloads.length + report.removedIds.length > MAX_WORKLOADS_PER_REPORT) {
    throw new MsegError('MSEG_ERR_VALIDATION', `more than ${MAX_WORKLOADS_PER_REPORT} workloads in one report`, 'workloads');
  }
  report.workloads.forEach(validate);
  const now = ctx.now();
  const reported = new Map(report.workloads.map((w) => [w.id, row(agentId, host, w)]));
  const services = [...new Set([...reported.values()].filter((w) => w.state !== 'stopped').map((w) => w.service))];
  const { changed, revision } = await ctx.store.db.transaction().execute(async (tx) => {
    const existing = new Map<string, Stored>();
    const columns = ['id', 'agent_id', 'host', 'name', 'image', 'labels', 'service', 'interfaces', 'state', 'reason'] as const;
    if (report.full) {
      for (const r of await tx.selectFrom('workloads').select(columns).where('agent_id', '=', agentId).execute()) existing.set(r.id, r);
    }
    const lookup = [...reported.keys(), ...report.removedIds].filter((id) => !existing.has(id));
    for (let i = 0; i < lookup.length; i += CHUNK) {
      const rows = await tx.selectFrom('workloads').select(columns).where('id', 'in', lookup.slice(i, i + CHUNK)).execute();
      for (const r of rows) existing.set(r.id, r);
    }

    const out: string[] = [];
    for (const [id, reportedRow] of reported) {
      const prev = existing.get(id);
      // A stopped container has no namespace, so it is reported without interfaces; it keeps the
      // addresses it had: what its server ends report after it stopped is resolved by them.
      const next = prev && reportedRow.state === 'stopped' && reportedRow.interfaces === '[]' ? { ...reportedRow, interfaces: prev.interfaces } : reportedRow;
      if (prev && same(prev, next)) continue;
      await tx
        .insertInto('workloads')
        .values({ id, ...next, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ ...next, updated_at: now }))
        .execute();
      out.push(id);
    }
    // Gone: named as removed, or (full report) not listed. Only this agent's own rows are touched,
    // so a container that moved to another host is not stopped by its old agent's report.
    const gone = report.full ? [...existing.keys()].filter((id) => !reported.has(id)) : report.removedIds;
    const stop = gone.filter((id) => {
      const prev = existing.get(id);
      return prev !== undefined && prev.agent_id === agentId && prev.state !== 'stopped';
    });
    for (let i = 0; i < stop.length; i += CHUNK) {
      await tx.updateTable('workloads').set({ state: 'stopped', updated_at: now }).where('id', 'in', stop.slice(i, i + CHUNK)).execute();
    }
    const ids = out.concat(stop);
    const groups = await ensureServiceGroups(ctx, services, tx);
    const rev = ids.length > 0 ? await bumpPolicyRevision(tx) : groups.revision;
    return { changed: ids, revision: rev };
  });

  if (changed.length > 0) ctx.events.emit('workloads', { agentId, ids: changed });
  if (revision !== null) ctx.events.emit('policy', { revision });
  return changed;
}
