/**
 * Aggregates session deltas into connection records keyed by (workload, client IP, server IP,
 * server port, IP protocol, application, direction, rule, action) and hands them over every
 * interval. One key string is built per changed session per interval, never per packet; the
 * record object only for a key new in the interval.
 */
import type { ActionName } from '../policy/compiled.js';

export type DirectionName = 'none' | 'ingress' | 'egress';
export const DIRECTION_NAMES: readonly DirectionName[] = ['none', 'ingress', 'egress'];

export interface ConnectionRecord {
  workloadId: string;
  client: string;
  server: string;
  serverPort: number;
  proto: number;
  app: string;
  direction: DirectionName;
  ruleId: number;
  action: ActionName;
  bytesToServer: number;
  bytesToClient: number;
  packetsToServer: number;
  packetsToClient: number;
  /** Sessions that started being reported in this interval. */
  sessions: number;
  firstSeen: number;
  lastSeen: number;
  /** Sessions in this record whose verdict was deny or violate. */
  violations: number;
  /** Worst threat severity seen (0 none … 5 critical). */
  threatSeverity: number;
}

/** Adds one session's unreported delta to a record. */
export function addDelta(
  r: ConnectionRecord,
  bytesToServer: number,
  bytesToClient: number,
  packetsToServer: number,
  packetsToClient: number,
  newSession: boolean,
  firstSeen: number,
  lastSeen: number,
  violation: boolean,
  threatSeverity: number,
): void {
  r.bytesToServer += bytesToServer;
  r.bytesToClient += bytesToClient;
  r.packetsToServer += packetsToServer;
  r.packetsToClient += packetsToClient;
  if (newSession) {
    r.sessions++;
    if (violation) r.violations++;
  }
  if (firstSeen < r.firstSeen) r.firstSeen = firstSeen;
  if (lastSeen > r.lastSeen) r.lastSeen = lastSeen;
  if (threatSeverity > r.threatSeverity) r.threatSeverity = threatSeverity;
}

export class ConnectionAggregator {
  private pending = new Map<string, ConnectionRecord>();

  get(key: string): ConnectionRecord | undefined {
    return this.pending.get(key);
  }

  /** Starts a record for a key not seen in this interval (callers build it only then). */
  create(key: string, r: ConnectionRecord): ConnectionRecord {
    this.pending.set(key, r);
    return r;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Returns what accumulated since the last call and starts a new interval. */
  take(): ConnectionRecord[] {
    if (this.pending.size === 0) return [];
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }
}
