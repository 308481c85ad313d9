/**
 * The dashboard's data. Counts by action and severity are the `total`s of one-item pages;
 * applications and the traffic series are summed from /connections and group-level /graph
 * answers, as the API has no endpoint that aggregates them.
 */
import { request } from '../../lib/api';
import { MAX_LIMIT } from '../../lib/page';
import { listConnections } from '../connections/api';
import { listThreats } from '../threats/api';
import { SEVERITIES, type Severity } from '../threats/types';
import { listViolations } from '../violations/api';
import type { ViolationAction } from '../violations/types';
import type { Stats, Summary, TopApps, TrafficPoint } from './types';

export function getSummary(signal?: AbortSignal): Promise<Summary> {
  return request<Summary>('/system/summary', { signal });
}

export function getStats(signal?: AbortSignal): Promise<Stats> {
  return request<Stats>('/stats', { query: { limit: 10 }, signal });
}

export async function violationsByAction(since: number, signal?: AbortSignal): Promise<Record<ViolationAction, number>> {
  const [deny, violate] = await Promise.all(
    (['deny', 'violate'] as const).map((action) => listViolations({ action, since, limit: 1, offset: 0 }, signal).then((p) => p.total)),
  );
  return { deny, violate };
}

export async function threatsBySeverity(since: number, signal?: AbortSignal): Promise<Record<Severity, number>> {
  const totals = await Promise.all(SEVERITIES.map((severity) => listThreats({ severity, since, limit: 1, offset: 0 }, signal).then((p) => p.total)));
  return Object.fromEntries(SEVERITIES.map((s, i) => [s, totals[i]])) as Record<Severity, number>;
}

export async function topApps(since: number, signal?: AbortSignal): Promise<TopApps> {
  const page = await listConnections({ since, limit: MAX_LIMIT, offset: 0 }, signal);
  const byApp = new Map<string, { sessions: number; bytes: number }>();
  for (const c of page.items) {
    const a = byApp.get(c.app) ?? { sessions: 0, bytes: 0 };
    a.sessions += c.sessions;
    a.bytes += c.bytes;
    byApp.set(c.app, a);
  }
  return { apps: [...byApp].map(([app, a]) => ({ app, ...a })), counted: page.items.length, total: page.total };
}

interface GraphTotals {
  edges: { bytes: number; sessions: number }[];
}

/** Bytes and sessions of the whole system in `buckets` equal slices of [since, until). */
export async function trafficSeries(since: number, until: number, buckets: number, signal?: AbortSignal): Promise<TrafficPoint[]> {
  const step = (until - since) / buckets;
  return Promise.all(
    Array.from({ length: buckets }, async (_, i) => {
      const from = Math.round(since + i * step);
      const to = Math.round(since + (i + 1) * step);
      const g = await request<GraphTotals>('/graph', { query: { level: 'group', since: from, until: to }, signal });
      return { t: to, bytes: g.edges.reduce((s, e) => s + e.bytes, 0), sessions: g.edges.reduce((s, e) => s + e.sessions, 0) };
    }),
  );
}
