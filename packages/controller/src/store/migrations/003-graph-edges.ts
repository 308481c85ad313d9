/**
 * Version 3: the rolled-up network map, pre-aggregated at ingest.
 * - graph_edges: what flowed between two ends of the group-level map (a service group, a workload
 *   unknown at ingest, `nodes` or `external`) per server port, protocol, application, verdict and
 *   rule, per 5 s and per minute (both written at ingest) and per hour (rolled up from minutes).
 *   /graph?level=group reads a few thousand of these for a window instead of every conversation.
 * - conversations_time goes: every ingest upsert moved its entry (last_seen changes), and its one
 *   reader (the dashboard's count of the last 5 minutes) finds the rows by bucket instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const table = db.schema
    .createTable('graph_edges')
    .addColumn('resolution', 'integer', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('client_node', 'text', (c) => c.notNull())
    .addColumn('client_kind', 'integer', (c) => c.notNull())
    .addColumn('server_node', 'text', (c) => c.notNull())
    .addColumn('server_kind', 'integer', (c) => c.notNull())
    .addColumn('server_port', 'integer', (c) => c.notNull())
    .addColumn('proto', 'integer', (c) => c.notNull())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sessions', 'bigint', (c) => c.notNull())
    .addColumn('violations', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    // The upsert key, whose (resolution, bucket) prefix is also what /graph scans a window by. On
    // SQLite the rows live in the key's b-tree (WITHOUT ROWID): one b-tree to write instead of
    // two, and a window is one sequential read with no lookup per row.
    .addPrimaryKeyConstraint('graph_edges_pk', ['resolution', 'bucket', 'client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id']);
  await (dialect === 'sqlite' ? table.modifyEnd(sql`without rowid`) : table).execute();
  await db.schema.dropIndex('conversations_time').execute();
}
