import { request } from '../../lib/api';
import { MAX_LIMIT, type Page } from '../../lib/page';
import { listConnections } from '../connections/api';
import type { Conversation } from '../connections/types';
import type { Workload, WorkloadFilters } from './types';

export function listWorkloads(filters: WorkloadFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Workload>> {
  return request<Page<Workload>>('/workloads', { query: { ...filters }, signal });
}

export function getWorkload(id: string, signal?: AbortSignal): Promise<Workload> {
  return request<Workload>(`/workloads/${encodeURIComponent(id)}`, { signal });
}

/** A workload's conversations in [since, now): where it is the server and where it is the client. */
export async function workloadConversations(id: string, since: number, signal?: AbortSignal): Promise<{ inbound: Conversation[]; outbound: Conversation[]; truncated: boolean }> {
  const [inbound, outbound] = await Promise.all([
    listConnections({ to: id, since, limit: MAX_LIMIT, offset: 0 }, signal),
    listConnections({ from: id, since, limit: MAX_LIMIT, offset: 0 }, signal),
  ]);
  return { inbound: inbound.items, outbound: outbound.items, truncated: inbound.total > inbound.items.length || outbound.total > outbound.items.length };
}

export interface TrafficBucket {
  t: number;
  inBytes: number;
  outBytes: number;
}

/** Bytes received and sent by a workload in `buckets` equal slices of [since, until). */
export async function workloadTraffic(id: string, since: number, until: number, buckets: number, signal?: AbortSignal): Promise<TrafficBucket[]> {
  const step = (until - since) / buckets;
  const sum = (p: Page<Conversation>) => p.items.reduce((s, c) => s + c.bytes, 0);
  return Promise.all(
    Array.from({ length: buckets }, async (_, i) => {
      const from = Math.round(since + i * step);
      const to = Math.round(since + (i + 1) * step);
      const [inbound, outbound] = await Promise.all([
        listConnections({ to: id, since: from, until: to, limit: MAX_LIMIT, offset: 0 }, signal),
        listConnections({ from: id, since: from, until: to, limit: MAX_LIMIT, offset: 0 }, signal),
      ]);
      return { t: to, inBytes: sum(inbound), outBytes: sum(outbound) };
    }),
  );
}
