/**
 * Version 3: the rolled-up network map, pre-aggregated at ingest.
 * - graph_edges: what flowed between two ends of the group-level map (a service group, a workload
 *   unknown at ingest, `nodes` or `external`) per server port, protocol, application, verdict and
 *   rule, per 5 s and per minute (both written at ingest) and per hour (rolled up from minutes).
 *   /graph?level=group reads a few thousand of these for a window instead of every conversation.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
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
    .execute();
  // The upsert key; its (resolution, bucket) prefix is also what /graph scans a window by.
  await db.schema
    .createIndex('graph_edges_key')
    .on('graph_edges')
    .columns(['resolution', 'bucket', 'client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id'])
    .unique()
    .execute();
}
