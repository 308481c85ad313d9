import type { ThreatRecord } from '@mseg/dp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../testing/controller.js';
import { seedAgent, seedWorkloads } from './fixtures.js';
import { addressOf, ingestThreats } from './threats.js';

let t: TestController;
beforeEach(async () => {
  t = await testController();
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [{ id: 'web1', service: 'web', ips: ['10.0.0.1'] }]);
});
afterEach(() => t.close());

const threat = (over: Partial<ThreatRecord> = {}): ThreatRecord => ({
  id: 4003,
  name: 'SQL injection',
  severity: 'critical',
  ts: 1_700_000_000,
  workloadId: 'web1',
  client: '198.51.100.7:40001',
  server: '10.0.0.1:80',
  proto: 6,
  app: 'HTTP',
  detail: "GET /?id=1' OR '1'='1",
  count: 1,
  ...over,
});

describe('ingestThreats', () => {
  it('de-duplicates per (threat, workload, client address, server) and counts', async () => {
    const events: number[] = [];
    t.ctx.events.on('threats', (e) => events.push(e.count));
    await ingestThreats(t.ctx, 'agent-a', [threat(), threat({ client: '198.51.100.7:40002', ts: 1_700_000_003, count: 4, detail: 'second' })]);
    await ingestThreats(t.ctx, 'agent-a', [threat({ client: '198.51.100.7:40003', ts: 1_699_999_990 }), threat({ client: '198.51.100.8:1', id: 1001, name: 'TCP SYN flood', severity: 'high' })]);
    const rows = await t.ctx.store.db.selectFrom('threats').selectAll().orderBy('threat_id').execute();
    expect(rows.map((r) => [r.threat_id, r.workload_id, r.client, r.server, r.count, r.first_seen, r.last_seen, r.detail])).toEqual([
      [1001, 'web1', '198.51.100.8', '10.0.0.1:80', 1, 1_700_000_000_000, 1_700_000_000_000, "GET /?id=1' OR '1'='1"],
      [4003, 'web1', '198.51.100.7', '10.0.0.1:80', 6, 1_699_999_990_000, 1_700_000_003_000, 'second'],
    ]);
    expect(events).toEqual([1, 2]);
  });

  it('keeps threats of different workloads apart', async () => {
    await seedWorkloads(t.ctx, 'agent-a', 'host-a', [{ id: 'web2', service: 'web', ips: ['10.0.0.2'] }]);
    await ingestThreats(t.ctx, 'agent-a', [threat(), threat({ workloadId: 'web2' })]);
    expect(await t.ctx.store.db.selectFrom('threats').select('workload_id').orderBy('workload_id').execute()).toEqual([{ workload_id: 'web1' }, { workload_id: 'web2' }]);
  });
});

describe('addressOf', () => {
  it.each([
    ['10.0.0.1:443', '10.0.0.1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s → %s', (input, out) => expect(addressOf(input)).toBe(out));
});
