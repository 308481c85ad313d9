import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patchSystemConfig } from '../server/config.js';
import { testController, type TestController } from '../testing/controller.js';
import { ingestConnections } from './connections.js';
import { connection, seedAgent, seedWorkloads } from './fixtures.js';
import { DAY, HOUR, MINUTE, REPORT_BATCH_HOLD_MS, rollupState, runRollup } from './rollup.js';

// An hour boundary, so the test's traffic fills whole minutes of one hour.
const H0 = Math.ceil(1_700_000_000_000 / HOUR) * HOUR;
let now = H0;
let t: TestController;

beforeEach(async () => {
  now = H0;
  t = await testController({ now: () => now });
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [{ id: 'web1', service: 'web', ips: ['10.0.0.1'] }]);
});
afterEach(() => t.close());

/** One record per 5 s from H0 for `minutes`, to two servers, with varying counters. */
async function traffic(minutes: number): Promise<void> {
  for (let s = 0; s < minutes * 60; s += 5) {
    const at = (H0 + s * 1000 + 2500) / 1000;
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [
      connection({ workloadId: 'web1', client: '10.0.0.1', server: '93.184.216.34', serverPort: 443, app: 'TLS', bytesToServer: s, bytesToClient: 1, sessions: s % 2, firstSeen: at - 1, lastSeen: at }),
      connection({ workloadId: 'web1', client: '10.0.0.1', server: '1.1.1.1', serverPort: 53, proto: 17, app: 'DNS', action: 'violate', violations: 1, lastSeen: at, firstSeen: at }),
    ], []);
  }
}

async function totals(resolution: number) {
  const r = await t.ctx.store.db
    .selectFrom('conversations')
    .select((eb) => [eb.fn.count<number>('id').as('rows'), eb.fn.sum<number>('bytes').as('bytes'), eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('violations').as('violations')])
    .where('resolution', '=', resolution)
    .executeTakeFirstOrThrow();
  return { rows: Number(r.rows), bytes: Number(r.bytes ?? 0), sessions: Number(r.sessions ?? 0), violations: Number(r.violations ?? 0) };
}

/** The group map's rows of one resolution (svc.web → external, two ports). */
async function edgeTotals(resolution: number) {
  const r = await t.ctx.store.db
    .selectFrom('graph_edges')
    .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>('bytes').as('bytes'), eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('violations').as('violations')])
    .where('resolution', '=', resolution)
    .executeTakeFirstOrThrow();
  return { rows: Number(r.rows), bytes: Number(r.bytes ?? 0), sessions: Number(r.sessions ?? 0), violations: Number(r.violations ?? 0) };
}

describe('runRollup', () => {
  it('rolls raw → 1 min → 1 h preserving the sums, once', async () => {
    await traffic(3);
    const raw = await totals(0);
    expect(raw.rows).toBe(2 * 36);
    // The group map has its 5 s and minute rows from ingest, with the same sums.
    expect(await edgeTotals(0)).toEqual(raw);
    expect(await edgeTotals(MINUTE)).toEqual({ ...raw, rows: 2 * 3 });

    // Only minutes that ended LATENESS ago are rolled: at H0+3min with lateness 1 min, two of three.
    now = H0 + 3 * MINUTE;
    expect(await runRollup(t.ctx, MINUTE)).toMatchObject({ minutesRolled: 2, hoursRolled: 0 });
    expect(await rollupState(t.ctx.store.db)).toEqual({ minute: H0 + 2 * MINUTE, hour: H0 });
    expect((await totals(MINUTE)).rows).toBe(4);

    now = H0 + HOUR + 5 * MINUTE;
    expect(await runRollup(t.ctx, MINUTE)).toMatchObject({ minutesRolled: 62, hoursRolled: 1 });
    const minutes = await totals(MINUTE);
    const hours = await totals(HOUR);
    expect(minutes).toEqual({ ...raw, rows: 6 });
    expect(hours).toEqual({ ...raw, rows: 2 });
    expect(await edgeTotals(HOUR)).toEqual({ ...raw, rows: 2 });
    const hourRows = await t.ctx.store.db.selectFrom('conversations').selectAll().where('resolution', '=', HOUR).orderBy('server_port').execute();
    expect(hourRows.map((r) => [r.bucket, r.server_port, r.action, r.enforced_by, r.first_seen, r.last_seen])).toEqual([
      [H0, 53, 'violate', 'client', H0 + 2500, H0 + 177_500],
      [H0, 443, 'allow', 'client', H0 + 1500, H0 + 177_500],
    ]);

    // A second run at the same time changes nothing.
    expect(await runRollup(t.ctx, MINUTE)).toEqual({ minutesRolled: 0, hoursRolled: 0, deleted: 0 });
    expect(await totals(MINUTE)).toEqual(minutes);
    expect(await totals(HOUR)).toEqual(hours);
    expect(await edgeTotals(HOUR)).toEqual({ ...raw, rows: 2 });
  });

  it('deletes each level after its retention, never before it is rolled up', async () => {
    await patchSystemConfig(t.ctx, { retention: { rawMinutes: 5, minuteHours: 1, hourDays: 1 } });
    await traffic(2);
    const raw = await totals(0);

    // Retention says the raw rows are old, but they are not rolled up yet (lateness): kept.
    now = H0 + 10 * MINUTE;
    await runRollup(t.ctx, 20 * MINUTE);
    expect((await totals(0)).rows).toBe(raw.rows);

    await runRollup(t.ctx, MINUTE);
    expect((await totals(0)).rows).toBe(0);
    expect(await totals(MINUTE)).toEqual({ ...raw, rows: 4 });
    expect((await edgeTotals(0)).rows).toBe(0);
    expect(await edgeTotals(MINUTE)).toEqual({ ...raw, rows: 4 });

    now = H0 + 2 * HOUR + 10 * MINUTE;
    await runRollup(t.ctx, MINUTE);
    expect((await totals(MINUTE)).rows).toBe(0);
    expect(await totals(HOUR)).toEqual({ ...raw, rows: 2 });
    expect((await edgeTotals(MINUTE)).rows).toBe(0);
    expect(await edgeTotals(HOUR)).toEqual({ ...raw, rows: 2 });

    now = H0 + HOUR + DAY + MINUTE;
    await runRollup(t.ctx, MINUTE);
    expect((await totals(HOUR)).rows).toBe(0);
    expect((await edgeTotals(HOUR)).rows).toBe(0);
    expect(await t.ctx.store.db.selectFrom('violations').selectAll().execute()).toEqual([]);
  });

  it('forgets the batch ids of reports older than the hold, keeps the recent ones', async () => {
    const at = (ago: number) => ({ agent_id: 'agent-a', batch_id: `b-${ago}`, received_at: now - ago });
    await t.ctx.store.db.insertInto('report_batches').values([at(REPORT_BATCH_HOLD_MS + MINUTE), at(REPORT_BATCH_HOLD_MS - MINUTE), at(0)]).execute();
    expect((await runRollup(t.ctx)).deleted).toBe(1);
    const left = await t.ctx.store.db.selectFrom('report_batches').select('batch_id').orderBy('received_at').execute();
    expect(left.map((r) => r.batch_id)).toEqual([`b-${REPORT_BATCH_HOLD_MS - MINUTE}`, 'b-0']);
  });
});
