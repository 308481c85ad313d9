/**
 * Threat records → the `threats` table, one row per (threat, workload, client, server) with a
 * count. The client is kept without its port: every connection comes from a new ephemeral port,
 * and de-duplicating on it would keep one row per attack attempt instead of per attacker.
 */
import type { ThreatRecord } from '@mseg/dp';
import { sql } from 'kysely';
import type { Context } from '../server/context.js';
import { addressBook } from './address-book.js';
import { reporter, toMs, type ReportId } from './connections.js';

const ROWS_PER_STATEMENT = 1000;

/** `ip:port` / `[v6]:port` → the address alone; other text unchanged. */
export function addressOf(endpoint: string): string {
  if (endpoint.startsWith('[')) {
    const end = endpoint.indexOf(']');
    return end > 0 ? endpoint.slice(1, end) : endpoint;
  }
  const colon = endpoint.indexOf(':');
  return colon > 0 && colon === endpoint.lastIndexOf(':') ? endpoint.slice(0, colon) : endpoint;
}

interface ThreatAcc {
  threat_id: number;
  name: string;
  severity: string;
  workload_id: string;
  client: string;
  server: string;
  proto: number;
  app: string;
  detail: string;
  count: number;
  first_seen: number;
  last_seen: number;
}

export async function ingestThreats(ctx: Context, agentId: string, items: ThreatRecord[], report?: ReportId): Promise<void> {
  const book = await addressBook(ctx);
  const merged = new Map<string, ThreatAcc>();
  for (const t of items) {
    const row: ThreatAcc = {
      threat_id: t.id,
      name: t.name,
      severity: t.severity,
      workload_id: reporter(book, agentId, t.workloadId),
      client: addressOf(t.client),
      server: t.server,
      proto: t.proto,
      app: t.app,
      detail: t.detail,
      count: t.count,
      first_seen: toMs(t.ts),
      last_seen: toMs(t.ts),
    };
    const key = `${row.threat_id}|${row.workload_id}|${row.client}|${row.server}`;
    const a = merged.get(key);
    if (!a) merged.set(key, row);
    else {
      a.count += row.count;
      if (row.first_seen < a.first_seen) a.first_seen = row.first_seen;
      if (row.last_seen >= a.last_seen) Object.assign(a, { last_seen: row.last_seen, detail: row.detail, app: row.app });
    }
  }
  const rows = [...merged.keys()].sort().map((k) => merged.get(k) as ThreatAcc);

  await ctx.store.db.transaction().execute(async (db) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      await db
        .insertInto('threats')
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) =>
          oc.columns(['threat_id', 'workload_id', 'client', 'server']).doUpdateSet({
            count: sql`threats.count + excluded.count`,
            first_seen: sql`case when excluded.first_seen < threats.first_seen then excluded.first_seen else threats.first_seen end`,
            // The newest record's detail and application describe the latest detection.
            detail: sql`case when excluded.last_seen >= threats.last_seen then excluded.detail else threats.detail end`,
            app: sql`case when excluded.last_seen >= threats.last_seen then excluded.app else threats.app end`,
            last_seen: sql`case when excluded.last_seen > threats.last_seen then excluded.last_seen else threats.last_seen end`,
          }),
        )
        .execute();
    }
    // The report is recorded with its rows: acknowledged and stored, or neither.
    if (report) {
      await db
        .insertInto('report_batches')
        .values({ agent_id: report.agentId, batch_id: report.batchId, received_at: ctx.now() })
        .onConflict((oc) => oc.columns(['agent_id', 'batch_id']).doNothing())
        .execute();
    }
  });
  if (rows.length > 0) ctx.events.emit('threats', { count: rows.length });
}
