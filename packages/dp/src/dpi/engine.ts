/**
 * Runs the parsers over sessions that are being classified. One DpiSession object exists per
 * session only while DPI looks at it (from its first payload until the app is decided and the
 * winner stops following), kept in a bounded pool; sessions beyond the pool stay "unknown" and
 * are counted, so memory never grows with hostile traffic.
 */
import { newMeta, type FlowMeta } from './meta.js';
import { MATCH, NO_MATCH, TCP, UDP, type DpiFlow, type DpiParser } from './parser.js';
import { PARSERS } from './registry.js';

/** Payload packets a session gets to be classified before it is declared unknown. */
const CLASSIFY_PACKETS = 16;
/** Payload packets the winner may follow (metadata, threats) before DPI lets go of the session. */
const FOLLOW_PACKETS = 256;

export type ThreatReporter = (session: number, id: number, detail: string) => void;

export class DpiSession implements DpiFlow {
  l4 = 0;
  clientPort = 0;
  serverPort = 0;
  clientPackets = 0;
  serverPackets = 0;
  meta: FlowMeta = newMeta();
  readonly state: unknown[];
  /** Per parser: 1 while it is still a candidate. */
  readonly alive: Uint8Array;
  candidates = 0;
  winner = -1;
  budget = 0;
  /** Next expected TCP sequence number per direction (0 client→server, 1 back); -1 = not yet known. */
  nextSeq0 = -1;
  nextSeq1 = -1;
  /** Session row this classification belongs to (updated when the table moves rows). */
  row = -1;
  reporter: ThreatReporter | null = null;

  constructor(parserCount: number) {
    this.state = new Array(parserCount).fill(undefined);
    this.alive = new Uint8Array(parserCount);
  }

  /**
   * Threats raised while parsers still compete are held until the call's verdict: only the
   * parser that claims the session may report (a DNS parser must not flag a TLS flow's bytes).
   */
  pendingThreats: (number | string)[] = [];

  threat(id: number, detail: string): void {
    if (this.winner < 0) this.pendingThreats.push(id, detail);
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
  private live = 0;
  /** Sessions that got no classification because the pool was full. */
  overflow = 0;

  constructor(
    private readonly maxSessions: number,
    parsers: readonly DpiParser[] = PARSERS,
  ) {
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
    if (this.live >= this.maxSessions) {
      this.overflow++;
      return -1;
    }
    let h = this.free.pop();
    if (h === undefined) {
      h = this.pool.length;
      this.pool.push(undefined);
    }
    const n = this.parsers.length;
    const s = new DpiSession(n);
    const mask = l4 === 6 ? TCP : l4 === 17 ? UDP : 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (this.parsers[i].transports & mask) {
        s.alive[i] = 1;
        c++;
      }
    }
    s.candidates = c;
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

  close(h: number): FlowMeta | undefined {
    const s = this.pool[h];
    if (!s) return undefined;
    this.pool[h] = undefined;
    this.free.push(h);
    this.live--;
    return s.meta;
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
      if (s.alive[i] === 0) continue;
      const v = parsers[i].classify(s, data, off, len, fromClient);
      const held = s.pendingThreats;
      if (held.length > 0) s.pendingThreats = [];
      if (v === MATCH) {
        s.winner = i;
        for (let k = 0; k < held.length; k += 2) s.threat(held[k] as number, held[k + 1] as string);
        if (s.meta.app === 0) s.meta.app = parsers[i].app;
        s.budget = FOLLOW_PACKETS;
        return parsers[i].follow ? DpiStatus.busy : DpiStatus.done;
      }
      if (v === NO_MATCH) {
        s.alive[i] = 0;
        s.candidates--;
      }
    }
    if (s.candidates === 0 || --s.budget <= 0) return DpiStatus.done;
    return DpiStatus.busy;
  }
}
