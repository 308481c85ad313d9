/**
 * Two controller processes on one PostgreSQL database: a rule created through the REST API of one
 * reaches an agent's WatchPolicy stream served by the other within 1 s (the event crosses through
 * LISTEN/NOTIFY; the rule itself through the shared store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleAction } from '@mseg/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { agentClient, registerAgent, streamReader, workload } from './support/agent.js';
import { restClient, spawnController, type ControllerProcess } from './support/process.js';
import { onPostgres, testDbUrl } from './support/store-env.js';

const PASSWORD = 'replica-test-password';
const JOIN_TOKEN = 'replica-test-join-token';
const dirs: string[] = [];
const procs: ControllerProcess[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function replica(): Promise<ControllerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mseg-replica-'));
  dirs.push(dataDir);
  const p = await spawnController({ dataDir, db: testDbUrl, adminPassword: PASSWORD, env: { MSEG_JOIN_TOKEN: JOIN_TOKEN } });
  procs.push(p);
  return p;
}

describe.skipIf(!onPostgres)('controller replicas on one PostgreSQL (runs in the controller-postgres project)', () => {
  it("a rule created through one replica reaches an agent's policy stream on the other within 1 s", async () => {
    const one = await replica();
    const two = await replica();

    // The agent is attached to replica two only.
    const grpc = agentClient(two.grpcPort);
    const agent = await registerAgent(grpc, JOIN_TOKEN, 'host-r');
    await grpc.reportWorkloads(
      { full: true, workloads: [workload('r-web', 'r-web', '10.9.0.2', 'host-r'), workload('r-db', 'r-db', '10.9.0.3', 'host-r')] },
      agent.opts,
    );
    const abort = new AbortController();
    const next = streamReader(grpc.watchPolicy({ agentId: agent.id, revision: 0n }, { ...agent.opts, signal: abort.signal }));
    const snapshot = await next();
    expect(snapshot.full).toBe(true);
    expect(snapshot.policies.map((p) => p.workloadId).sort()).toEqual(['r-db', 'r-web']);
    expect(snapshot.policies.every((p) => p.rules.length === 0)).toBe(true);

    // The rule goes in through replica one.
    const api = await restClient(one.apiUrl, 'admin', PASSWORD);
    const t0 = performance.now();
    const created = await api('POST', '/api/v1/policies', { from: 'svc.r-web', to: 'svc.r-db', ports: 'tcp/5432', apps: ['any'], action: 'allow' });
    expect(created.status).toBe(201);
    const update = await next(1000);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    expect(update.full).toBe(false);
    expect(update.revision).toBeGreaterThan(snapshot.revision);
    expect(update.policies.map((p) => p.workloadId).sort()).toEqual(['r-db', 'r-web']);
    const web = update.policies.find((p) => p.workloadId === 'r-web')!;
    expect(web.rules).toEqual([
      expect.objectContaining({ id: created.json.id, from: ['10.9.0.2'], to: ['10.9.0.3'], ports: 'tcp/5432', action: RuleAction.ALLOW }),
    ]);

    // A second change crosses too: deleted through replica one, gone from the stream within 1 s.
    expect((await api('DELETE', `/api/v1/policies/${created.json.id}`)).status).toBe(204);
    const removed = await next(1000);
    expect(removed.policies.find((p) => p.workloadId === 'r-web')!.rules).toEqual([]);
    abort.abort();
  });
});
