/**
 * Version 2: what conversation ingest and the graph need beyond version 1.
 * - violations.client_count / server_count: both ends of a connection may report the same
 *   violation; each end's sessions are summed apart and `count` is the larger of the two, so a
 *   violation both ends saw is counted once and one that only one end saw still counts.
 * - threats_key: threat records are de-duplicated per (threat, workload, client, server).
 * - conversations by workload and time, for the `from`/`to` filters of /connections and /stats.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('violations').addColumn('client_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('violations').addColumn('server_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('violations_client').on('violations').columns(['client_workload', 'last_seen']).execute();
  await db.schema.createIndex('violations_server').on('violations').columns(['server_workload', 'last_seen']).execute();

  await db.schema.createIndex('threats_key').on('threats').columns(['threat_id', 'workload_id', 'client', 'server']).unique().execute();
  await db.schema.createIndex('threats_workload').on('threats').columns(['workload_id', 'last_seen']).execute();

  await db.schema.createIndex('conversations_client').on('conversations').columns(['resolution', 'client_workload', 'bucket']).execute();
  await db.schema.createIndex('conversations_server').on('conversations').columns(['resolution', 'server_workload', 'bucket']).execute();
}
