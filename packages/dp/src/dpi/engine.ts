/**
 * Runs the parsers over sessions that are being classified. One DpiSession object exists per
 * session only while DPI looks at it (from its first payload until the app is decided and the
 * winner stops following), kept in a bounded pool. A classification in progress always wins over
 * following a session already classified: when the pool is full, the oldest follower is retired
 * to make room. Only when every pooled session is still being classified does a new one stay
 * "unknown", counted in `overflow`, so memory never grows with hostile traffic.
 */
import { newMeta, type FlowMeta } from './meta.js';
import { MATCH, NO_MATCH, TCP, UDP, type DpiFlow, type DpiParser } from './parser.js';
import { PARSERS } from './registry.js';

/** Payload packets a session gets to be classified before it is declared unknown. */
const CLASSIFY_PACKETS = 16;
/** Payload packets the winner may follow (metadata, threats) before DPI lets go of the session. */
const FOLLOW_PACKETS = 64;
/** Closed DpiSession objects kept for reuse. */
const SPARE_SESSIONS = 1024;
/** `alive` is a 32-bit mask. */
const MAX_PARSERS = 31;

export type ThreatReporter = (session: number, id: number, detail: string) => void;
/** Told when the engine ends a follow early to make room; the holder must forget the handle. */
export type RetireHandler = (row: number, meta: FlowMeta) => void;

export class DpiSession implements DpiFlow {
  l4 = 0;
  clientPort = 0;
  serverPort = 0;
  clientPackets = 0;
  serverPackets = 0;
  meta: FlowMeta = newMeta();
  readonly state: unknown[];
  /** Bit i set while parser i is still a candidate. */
  alive = 0;
  winner = -1;
  budget = 0;
  /** Next expected TCP sequence number per direction (0 client→server, 1 back); -1 = not yet known. */
  nextSeq0 = -1;
  nextSeq1 = -1;
  /** Session row this classification belongs to (updated when the table moves rows). */
  row = -1;
  reporter: ThreatReporter | null = null;
  /**
   * Threats raised while parsers still compete are held until the call's verdict: only the
   * parser that claims the session may report (a DNS parser must not flag a TLS flow's bytes).
   */
  pendingThreats: (number | string)[] | null = null;

  constructor(parserCount: number) {
    this.state = new Array<unknown>(parserCount).fill(undefined);
  }

  threat(id: number, detail: string): void {
    if (this.winner < 0) (this.pendingThreats ??= []).push(id, detail);
    else if (this.reporter) this.reporter(this.row, id, detail);
  }
}

export const DpiStatus = {
  /** Still classifying or following: keep feeding payloads. */
  busy: 0,
  /** DPI is finished with this session; release it. */
  done: 1,
} as const;

export class DpiEngine {
  readonly parsers: readonly DpiParser[];
  private readonly pool: (DpiSession | undefined)[] = [];
  private readonly free: number[] = [];
  /** Closed session objects kept for reuse: a busy data plane opens thousands a second. */
  private readonly spare: DpiSession[] = [];
  /** Handles of sessions that entered follow mode, oldest first (entries may be stale). */
  private followers: number[] = [];
  private followHead = 0;
  private live = 0;
  /** Sessions that got no classification because the pool was full of classifications. */
  overflow = 0;
  /** Follows ended early to make room for a classification. */
  retired = 0;
  onRetire: RetireHandler | null = null;

  constructor(
    private readonly maxSessions: number,
    parsers: readonly DpiParser[] = PARSERS,
  ) {
    if (parsers.length > MAX_PARSERS) throw new RangeError(`at most ${MAX_PARSERS} DPI parsers, got ${parsers.length}`);
    // Slots index DpiFlow.state; a parser object belongs to one engine's numbering.
    this.parsers = parsers;
    parsers.forEach((p, i) => {
      (p as { slot?: number }).slot = i;
    });
  }

  get active(): number {
    return this.live;
  }

  /** Starts classifying a session; returns its handle or -1 when the pool is full. */
  open(l4: number, clientPort: number, serverPort: number, row: number, reporter: ThreatReporter): number {
    if (this.live >= this.maxSessions && !this.retireOldestFollower()) {
      this.overflow++;
      return -1;
    }
    let h = this.free.pop();
    if (h === undefined) {
      h = this.pool.length;
      this.pool.push(undefined);
    }
    const n = this.parsers.length;
    const s = this.spare.pop() ?? new DpiSession(n);
    const mask = l4 === 6 ? TCP : l4 === 17 ? UDP : 0;
    let alive = 0;
    for (let i = 0; i < n; i++) if (this.parsers[i].transports & mask) alive |= 1 << i;
    s.alive = alive;
    s.winner = -1;
    s.clientPackets = 0;
    s.serverPackets = 0;
    s.nextSeq0 = -1;
    s.nextSeq1 = -1;
    s.pendingThreats = null;
    s.meta = newMeta();
    s.l4 = l4;
    s.clientPort = clientPort;
    s.serverPort = serverPort;
    s.row = row;
    s.reporter = reporter;
    s.budget = CLASSIFY_PACKETS;
    this.pool[h] = s;
    this.live++;
    return h;
  }

  get(h: number): DpiSession | undefined {
    return this.pool[h];
  }

  /** Ends a session's DPI; its findings are returned and no longer referenced by the engine. */
  close(h: number): FlowMeta | undefined {
    const s = this.pool[h];
    if (!s) return undefined;
    this.pool[h] = undefined;
    this.free.push(h);
    this.live--;
    const meta = s.meta;
    s.state.fill(undefined);
    s.reporter = null;
    if (this.spare.length < SPARE_SESSIONS) this.spare.push(s);
    return meta;
  }

  private retireOldestFollower(): boolean {
    const q = this.followers;
    while (this.followHead < q.length) {
      const h = q[this.followHead++];
      const s = this.pool[h];
      if (s && s.winner >= 0) {
        this.close(h);
        this.retired++;
        if (this.onRetire) this.onRetire(s.row, s.meta);
        this.compactFollowers();
        return true;
      }
    }
    this.compactFollowers();
    return false;
  }

  private compactFollowers(): void {
    if (this.followHead > 4096 && this.followHead * 2 > this.followers.length) {
      this.followers = this.followers.slice(this.followHead);
      this.followHead = 0;
    }
  }

  /**
   * Offers one payload. For TCP, `seq` orders segments: retransmissions are skipped and a segment
   * after a gap is still inspected (parsers are strict enough not to be fooled by a missing piece).
   */
  inspect(h: number, data: Uint8Array, off: number, len: number, fromClient: boolean, seq: number): number {
    const s = this.pool[h];
    if (!s) return DpiStatus.done;
    if (s.l4 === 6) {
      const expected = fromClient ? s.nextSeq0 : s.nextSeq1;
      if (expected >= 0) {
        const delta = (seq - expected) | 0;
        // Entirely old data: a retransmission already inspected.
        if (delta < 0 && ((seq + len - expected) | 0) <= 0) return DpiStatus.busy;
      }
      const next = (seq + len) >>> 0;
      if (fromClient) s.nextSeq0 = next;
      else s.nextSeq1 = next;
    }
    if (fromClient) s.clientPackets++;
    else s.serverPackets++;
    if (s.winner >= 0) {
      const p = this.parsers[s.winner];
      if (!p.follow || --s.budget <= 0) return DpiStatus.done;
      return p.follow(s, data, off, len, fromClient) ? DpiStatus.busy : DpiStatus.done;
    }
    const parsers = this.parsers;
    for (let i = 0; i < parsers.length; i++) {
      if ((s.alive & (1 << i)) === 0) continue;
      const v = parsers[i].classify(s, data, off, len, fromClient);
      const held = s.pendingThreats;
      s.pendingThreats = null;
      if (v === MATCH) return this.won(h, s, i, held);
      if (v === NO_MATCH) {
        s.alive &= ~(1 << i);
        // A parser that dropped out keeps nothing alive (its buffers may be kilobytes).
        s.state[i] = undefined;
      }
    }
    if (s.alive === 0 || --s.budget <= 0) return DpiStatus.done;
    return DpiStatus.busy;
  }

  private won(h: number, s: DpiSession, i: number, held: (number | string)[] | null): number {
    const p = this.parsers[i];
    s.winner = i;
    s.alive = 1 << i;
    for (let k = 0; k < s.state.length; k++) if (k !== i) s.state[k] = undefined;
    if (s.meta.app === 0) s.meta.app = p.app;
    s.budget = FOLLOW_PACKETS;
    if (held) for (let k = 0; k < held.length; k += 2) s.threat(held[k] as number, held[k + 1] as string);
    if (!p.follow) return DpiStatus.done;
    this.followers.push(h);
    return DpiStatus.busy;
  }
}
