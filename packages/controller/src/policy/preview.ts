/**
 * What switching a service group to Protect would block: its members' conversations of the last
 * 24 hours that their own end's rules do not allow (the client's egress rules when a member is the
 * client, the server's ingress rules when it is the server), decided as explain.ts decides.
 */
import { bucketCondition, bucketStep, storedPart } from '../api/conversation-query.js';
import { MsegError } from '../errors.js';
import { HOUR, MINUTE, RAW } from '../ingest/rollup.js';
import type { Context } from '../server/context.js';
import { Evaluator, addressEndpoint, workloadEndpoint, type Endpoint } from './explain.js';
import { canonicalIp, policySnapshot, type PolicySnapshot } from './membership.js';

export const PREVIEW_WINDOW_MS = 24 * 3600_000;

export interface WouldBlock {
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  /** The member's end that would block: its egress (as client) or ingress (as server). */
  side: 'egress' | 'ingress';
  /** The deny rule that decides, or 0 for the implicit deny. */
  ruleId: number;
  /** Sessions and bytes of the largest of the overlapping roll-up resolutions. */
  sessions: number;
  bytes: number;
  lastSeen: number;
}

function endpoint(snap: PolicySnapshot, workload: string, ip: string): Endpoint {
  if (workload !== '' && snap.workloads.has(workload)) return workloadEndpoint(snap, workload);
  return addressEndpoint(snap, canonicalIp(ip) ?? ip);
}

const COLUMNS = ['resolution', 'client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'sessions', 'bytes', 'last_seen'] as const;
const RESOLUTIONS = [RAW, MINUTE, HOUR];
/** Workload ids per query: each is a bound parameter. */
const CHUNK = 400;

/**
 * Every conversation row of any resolution last seen at or after `since` with a member at
 * either end, each once. The indexes lead with (resolution, bucket) and then the client or the
 * server: per resolution, the buckets from the first one that can hold such a row (a row's
 * last_seen lies in its bucket) to the last stored are listed, so each (bucket, member) is a
 * seek, not a read of the whole day. Rows with a member as client come from the key index;
 * those with a member as server only from conversations_server, less the ones whose client is
 * a member too (already read).
 */
async function memberConversations(ctx: Context, ids: string[], members: Set<string>, since: number) {
  const db = ctx.store.db;
  const rows = [];
  const day = RESOLUTIONS.map((resolution) => {
    const step = bucketStep(resolution);
    return { resolution, from: since - (since % step), to: Number.MAX_SAFE_INTEGER };
  });
  for (const { resolution, from, to } of await storedPart(ctx, day)) {
    const buckets = bucketCondition(resolution, from, to);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      for (const column of ['client_workload', 'server_workload'] as const) {
        const found = await db
          .selectFrom('conversations')
          .select([...COLUMNS])
          .where('resolution', '=', resolution)
          .where(buckets)
          .where(column, 'in', chunk)
          .where('last_seen', '>=', since)
          .execute();
        for (const r of found) if (column === 'client_workload' || !members.has(r.client_workload)) rows.push(r);
      }
    }
  }
  return rows;
}

export async function previewProtect(ctx: Context, group: string): Promise<WouldBlock[]> {
  const snap = await policySnapshot(ctx);
  const g = snap.groups.get(group);
  if (!g) throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${group}" does not exist`, 'params.name');
  if (g.kind !== 'service') throw new MsegError('MSEG_ERR_VALIDATION', `params.name: "${group}" is not a service group; only service groups have a mode`, 'params.name');
  const members = new Set(snap.members.get(group) ?? []);
  if (members.size === 0) return [];
  const rows = await memberConversations(ctx, [...members], members, ctx.now() - PREVIEW_WINDOW_MS);
  // One conversation per key; its resolutions overlap in time, so counts are not added across them.
  const byKey = new Map<string, { row: (typeof rows)[number]; sums: Map<number, { sessions: number; bytes: number }>; lastSeen: number }>();
  for (const r of rows) {
    const key = [r.client_workload, r.server_workload, r.client_ip, r.server_ip, r.server_port, r.proto, r.app].join('|');
    let e = byKey.get(key);
    if (!e) {
      e = { row: r, sums: new Map(), lastSeen: 0 };
      byKey.set(key, e);
    }
    const s = e.sums.get(r.resolution) ?? { sessions: 0, bytes: 0 };
    s.sessions += Number(r.sessions);
    s.bytes += Number(r.bytes);
    e.sums.set(r.resolution, s);
    e.lastSeen = Math.max(e.lastSeen, Number(r.last_seen));
  }
  const ev = new Evaluator(snap);
  const out: WouldBlock[] = [];
  for (const { row: r, sums, lastSeen } of byKey.values()) {
    const client = endpoint(snap, r.client_workload, r.client_ip);
    const server = endpoint(snap, r.server_workload, r.server_ip);
    const flow = { proto: r.proto, port: r.server_port, app: r.app === '' || r.app === 'unknown' ? null : r.app };
    let sessions = 0;
    let bytes = 0;
    for (const s of sums.values()) {
      if (s.sessions > sessions || (s.sessions === sessions && s.bytes > bytes)) ({ sessions, bytes } = s);
    }
    const base = {
      clientWorkload: r.client_workload,
      serverWorkload: r.server_workload,
      clientIp: r.client_ip,
      serverIp: r.server_ip,
      serverPort: r.server_port,
      proto: r.proto,
      app: r.app,
      sessions,
      bytes,
      lastSeen,
    };
    for (const side of ['client', 'server'] as const) {
      if (!members.has(side === 'client' ? r.client_workload : r.server_workload)) continue;
      const d = ev.decide(side, client, server, flow);
      if (d.action === 'deny') out.push({ ...base, side: side === 'client' ? 'egress' : 'ingress', ruleId: d.ruleId });
    }
  }
  out.sort((a, b) => b.lastSeen - a.lastSeen);
  return out;
}
