/**
 * Durability: a controller process killed with SIGKILL in the middle of ingest and REST changes,
 * then restarted on the same data (SQLite file, or PostgreSQL in the controller-postgres project),
 * has every report batch, group and rule it acknowledged. Batches it had not acknowledged are sent
 * again, as an agent does, and are then counted exactly once whether or not they had been stored
 * before the kill (the batch id is recorded in the transaction that stores the report).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Direction, Verdict } from '@mseg/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';
import { agentClient, registerAgent, workload, type AgentClient, type RegisteredAgent } from './support/agent.js';
import { restClient, spawnController, type ControllerProcess } from './support/process.js';
import { onPostgres, testDbUrl } from './support/store-env.js';

const PASSWORD = 'crash-test-password';
const JOIN_TOKEN = 'crash-test-join-token';
const CLIENT_IP = '10.5.0.2';
const RECORDS_PER_BATCH = 100;
const SENDERS = 6;

const dataDir = mkdtempSync(join(tmpdir(), 'mseg-crash-'));
let proc: ControllerProcess | null = null;
afterAll(async () => {
  await proc?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Record n of the run: its own server address, so its conversation can be found and summed alone. */
function serverIp(n: number): string {
  return `10.${100 + Math.floor(n / 65536)}.${(n >> 8) & 255}.${n & 255}`;
}

function batch(seq: number) {
  const now = Date.now() / 1000;
  return {
    batchId: `crash-${seq}`,
    connections: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => {
      const n = seq * RECORDS_PER_BATCH + i;
      return {
        workloadId: 'k-web',
        client: CLIENT_IP,
        server: serverIp(n),
        serverPort: 443,
        proto: 6,
        app: 'TLS',
        direction: Direction.EGRESS,
        ruleId: 0,
        action: Verdict.VIOLATE,
        bytesToServer: BigInt(100 + n),
        bytesToClient: 1000n,
        packetsToServer: 2n,
        packetsToClient: 2n,
        sessions: 1,
        firstSeen: now - 4,
        lastSeen: now,
        violations: 1,
        threatSeverity: 0,
      };
    }),
    dnsAnswers: [],
  };
}
const bytesOf = (n: number) => 100 + n + 1000;

const start = () => spawnController({ dataDir, db: testDbUrl, adminPassword: PASSWORD, env: { MSEG_JOIN_TOKEN: JOIN_TOKEN } });

describe(`controller killed with SIGKILL during ingest (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('keeps every acknowledged report batch, group and rule, and counts re-sent batches exactly once', async () => {
    proc = await start();
    let grpc: AgentClient = agentClient(proc.grpcPort);
    const agent: RegisteredAgent = await registerAgent(grpc, JOIN_TOKEN, 'host-k');
    await grpc.reportWorkloads({ full: true, workloads: [workload('k-web', 'k-web', CLIENT_IP, 'host-k')] }, agent.opts);
    const api = await restClient(proc.apiUrl, 'admin', PASSWORD);

    const ackedBatches = new Set<number>();
    const sentBatches = new Set<number>();
    const ackedGroups: string[] = [];
    const ackedRules: number[] = [];
    let nextBatch = 0;
    let killed = false;

    // An answer that arrived at all was sent before the kill: it counts as acknowledged.
    const sender = async () => {
      while (!killed) {
        const seq = nextBatch++;
        sentBatches.add(seq);
        try {
          await grpc.reportConnections(batch(seq), agent.opts);
          ackedBatches.add(seq);
        } catch {
          return;
        }
      }
    };
    const changer = async () => {
      for (let i = 0; !killed; i++) {
        try {
          const g = await api('POST', '/api/v1/groups', { name: `crash-g${i}`, criteria: [{ key: 'label', op: '=', value: `app=g${i}` }] });
          if (g.status !== 201) throw new Error(`group: ${g.status} ${g.body}`);
          ackedGroups.push(`crash-g${i}`);
          const r = await api('POST', '/api/v1/policies', { from: `crash-g${i}`, to: 'svc.k-web', ports: `tcp/${1000 + i}`, apps: ['any'], action: 'allow' });
          if (r.status !== 201) throw new Error(`rule: ${r.status} ${r.body}`);
          ackedRules.push(r.json.id as number);
        } catch (e) {
          if (killed) return;
          throw e;
        }
      }
    };
    const work = Promise.all([...Array.from({ length: SENDERS }, sender), changer()]);

    // Kill once ingest and changes are well under way, with requests in flight.
    await expect.poll(() => ackedBatches.size >= 30 && ackedRules.length >= 5, { timeout: 30_000, interval: 20 }).toBe(true);
    killed = true;
    proc.child.kill('SIGKILL');
    expect(await proc.exited).toBe('SIGKILL');
    await work;
    expect(sentBatches.size).toBeGreaterThan(ackedBatches.size);

    proc = await start();
    grpc = agentClient(proc.grpcPort);
    const api2 = await restClient(proc.apiUrl, 'admin', PASSWORD);
    for (const name of ackedGroups) expect((await api2('GET', `/api/v1/groups/${name}`)).status, name).toBe(200);
    for (const id of ackedRules) expect((await api2('GET', `/api/v1/policies/${id}`)).status, `rule ${id}`).toBe(200);
    // Acknowledged batches are known: sent again, they are recognised and not ingested twice.
    for (const seq of ackedBatches) expect((await grpc.reportConnections(batch(seq), agent.opts)).duplicate, `batch ${seq}`).toBe(true);
    // The agent re-sends what it had no answer for; stored or not before the kill, it counts once.
    for (const seq of sentBatches) if (!ackedBatches.has(seq)) await grpc.reportConnections(batch(seq), agent.opts);
    await proc.stop();
    proc = null;

    const store = await openStore(testDbUrl, dataDir);
    try {
      const rows = await store.db
        .selectFrom('conversations')
        .select(['server_ip', (eb) => eb.fn.sum<number>('bytes').as('bytes')])
        .where('resolution', '=', 0)
        .where('client_ip', '=', CLIENT_IP)
        .groupBy('server_ip')
        .execute();
      const stored = new Map(rows.map((r) => [r.server_ip, Number(r.bytes)]));
      let expected = 0;
      for (const seq of sentBatches) {
        for (let i = 0; i < RECORDS_PER_BATCH; i++) {
          const n = seq * RECORDS_PER_BATCH + i;
          expect(stored.get(serverIp(n)), `record ${n} of batch ${seq}${ackedBatches.has(seq) ? '' : ' (re-sent)'}`).toBe(bytesOf(n));
          expected++;
        }
      }
      expect(stored.size).toBe(expected);
    } finally {
      await store.close();
    }
  });
});
