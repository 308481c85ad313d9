/**
 * Reports waiting for the controller, bounded so a controller outage cannot grow the agent
 * without limit. Two lanes: the priority lane holds what an operator must see (Protect-mode
 * drops from NFLOG, connection records that were denied, violated or carried a threat, threat
 * logs); the bulk lane holds allowed-connection records and DNS answers (a name in use is
 * resolved, and so reported, again). When the queue is full the oldest bulk
 * record is dropped first; only a queue full of priority records drops the oldest of those.
 * Every drop is counted, so the loss is reported instead of silent.
 */
import type { ConnectionRecord, DnsAnswerRecord, ThreatRecord } from '@mseg/dp';

/** A packet a Protect-mode workload's nftables table dropped (read from NFLOG). */
export interface ViolationRecord {
  /** The workload whose table dropped the packet (the side that enforced). */
  workloadId: string;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  proto: number;
  /** 0: nothing allowed it (the implicit deny). */
  ruleId: number;
  direction: 'ingress' | 'egress';
  /** Seconds since the epoch of the first drop this record stands for. */
  ts: number;
  count: number;
}

export type Report =
  | { kind: 'violation'; item: ViolationRecord }
  | { kind: 'connection'; item: ConnectionRecord }
  | { kind: 'threat'; item: ThreatRecord }
  | { kind: 'dns'; item: DnsAnswerRecord };
export type ReportKind = Report['kind'];
export type ReportItem<K extends ReportKind> = Extract<Report, { kind: K }>['item'];

/** First-in first-out with O(1) push and shift (a head index, compacted now and then). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  /** Removes and returns up to `max` items matching `pick`, keeping the order of the rest. */
  take(max: number, pick: (v: T) => boolean): T[] {
    const out: T[] = [];
    const rest: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const v = this.items[i];
      if (out.length < max && pick(v)) out.push(v);
      else rest.push(v);
    }
    this.items = rest;
    this.head = 0;
    return out;
  }
}

/** A connection record an operator must see even when allowed traffic is being dropped. */
export function isFlagged(c: ConnectionRecord): boolean {
  return c.action === 'deny' || c.action === 'violate' || c.violations > 0 || c.threatSeverity > 0;
}

function isBulk(r: Report): boolean {
  return r.kind === 'dns' || (r.kind === 'connection' && !isFlagged(r.item));
}

export interface DropCounts {
  /** Bulk records (allowed connections, DNS answers) dropped to make room. */
  allowed: number;
  /** Priority records dropped because the queue held nothing else. */
  priority: number;
}

export class ReportQueue {
  private readonly priority = new Fifo<Report>();
  private readonly bulk = new Fifo<Report>();
  readonly dropped: DropCounts = { allowed: 0, priority: 0 };

  constructor(readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`report queue capacity ${capacity} must be a positive integer`);
  }

  get length(): number {
    return this.priority.length + this.bulk.length;
  }

  push(report: Report): void {
    if (this.length >= this.capacity) {
      if (this.bulk.length > 0) {
        this.bulk.shift();
        this.dropped.allowed++;
      } else {
        this.priority.shift();
        this.dropped.priority++;
      }
    }
    if (isBulk(report)) this.bulk.push(report);
    else this.priority.push(report);
  }

  pushConnections(items: readonly ConnectionRecord[]): void {
    for (const item of items) this.push({ kind: 'connection', item });
  }

  pushDnsAnswers(items: readonly DnsAnswerRecord[]): void {
    for (const item of items) this.push({ kind: 'dns', item });
  }

  pushThreats(items: readonly ThreatRecord[]): void {
    for (const item of items) this.push({ kind: 'threat', item });
  }

  pushViolations(items: readonly ViolationRecord[]): void {
    for (const item of items) this.push({ kind: 'violation', item });
  }

  /**
   * Removes and returns up to `max` records of one kind, priority ones first (so flagged
   * connection records leave before allowed ones), each lane oldest first.
   */
  take<K extends ReportKind>(kind: K, max: number): ReportItem<K>[] {
    const ofKind = (r: Report) => r.kind === kind;
    const first = this.priority.take(max, ofKind);
    const rest = first.length < max && (kind === 'connection' || kind === 'dns') ? this.bulk.take(max - first.length, ofKind) : [];
    return [...first, ...rest].map((r) => r.item as ReportItem<K>);
  }
}
