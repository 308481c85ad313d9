/**
 * Aggregates session deltas into connection records keyed by (workload, client IP, server IP,
 * server port, IP protocol, application, direction, rule, action) and hands them over every
 * interval. One key string is built per changed session per interval, never per packet.
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

export class ConnectionAggregator {
  private pending = new Map<string, ConnectionRecord>();

  add(
    key: string,
    make: () => ConnectionRecord,
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
    let r = this.pending.get(key);
    if (!r) {
      r = make();
      this.pending.set(key, r);
    }
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
