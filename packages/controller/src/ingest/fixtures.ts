/**
 * Builders for tests and benchmarks that feed ingest: agents and workloads stored the way the
 * gRPC service stores them, and connection records shaped like the data plane's.
 */
import type { ConnectionRecord } from '@mseg/dp';
import type { Context } from '../server/context.js';
import { ingestWorkloads } from './workloads.js';

export async function seedAgent(ctx: Context, id: string, host: string, state: 'online' | 'offline' = 'online'): Promise<void> {
  const now = ctx.now();
  await ctx.store.db.insertInto('agents').values({ id, host, version: 'test', state, registered_at: now, last_seen: now, policy_revision: 0 }).execute();
  ctx.events.emit('agents', { agentId: id, state });
}

export interface SeedWorkload {
  id: string;
  service: string;
  ips: string[];
  state?: 'running' | 'unmonitored';
}

export async function seedWorkloads(ctx: Context, agentId: string, host: string, list: SeedWorkload[]): Promise<void> {
  await ingestWorkloads(ctx, agentId, host, {
    full: false,
    removedIds: [],
    workloads: list.map((w) => ({
      id: w.id,
      name: `${w.service}-${w.id}`,
      image: `${w.service}:1`,
      labels: {},
      service: w.service,
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', ips: w.ips }],
      state: w.state ?? 'running',
      reason: w.state === 'unmonitored' ? 'host network' : '',
    })),
  });
}

/** A connection record; times are seconds, as the data plane reports them. */
export function connection(r: Partial<ConnectionRecord> & Pick<ConnectionRecord, 'workloadId' | 'client' | 'server'>): ConnectionRecord {
  return {
    serverPort: 80,
    proto: 6,
    app: 'HTTP',
    direction: 'egress',
    ruleId: 0,
    action: 'allow',
    bytesToServer: 100,
    bytesToClient: 1000,
    packetsToServer: 5,
    packetsToClient: 6,
    sessions: 1,
    firstSeen: 1_700_000_000,
    lastSeen: 1_700_000_001,
    violations: 0,
    threatSeverity: 0,
    ...r,
  };
}
