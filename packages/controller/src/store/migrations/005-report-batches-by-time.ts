/**
 * Version 5: report_batches by the time they were received, so the roll-up job can drop the ids
 * no agent will resend any more (the table grew by a row per report, for good).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('report_batches_received').on('report_batches').column('received_at').execute();
}
