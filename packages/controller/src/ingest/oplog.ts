/**
 * A report's ingest as data: the IngestSink calls it made (conversation, violation, rule hit,
 * DNS answer, report id), recorded in two flat arrays instead of objects, so the event loop hands
 * them to the SQLite writer thread as one string and one Float64Array (a copy of two buffers, not
 * a structured clone of thousands of objects) and the writer replays them into its batch.
 */
import type { EdgeEnds } from './address-book.js';
import type { ConversationDelta, ConversationKey, IngestSink, Verdict, ViolationDelta, ViolationKey } from './batch.js';

const CONVERSATION = 1;
const VIOLATION = 2;
const HIT = 3;
const DNS = 4;
const REPORT = 5;

/** What crosses to the writer thread. */
export interface EncodedOps {
  records: number;
  /** JSON array of the calls' strings, in call order. */
  strings: string;
  /** Each call's code, then its numbers, in call order. */
  numbers: Float64Array;
}

export class OpLog implements IngestSink {
  records = 0;
  private readonly s: string[] = [];
  private readonly n: number[] = [];

  addConversation(k: ConversationKey, d: ConversationDelta, e: EdgeEnds): void {
    this.n.push(CONVERSATION, k.bucket, k.serverPort, k.proto, k.ruleId, d.side, d.bytes, d.packets, d.sessions, d.violations, d.threatSeverity, d.firstSeen, d.lastSeen, e.clientKind, e.serverKind);
    this.s.push(k.clientWorkload, k.serverWorkload, k.clientIp, k.serverIp, k.app, k.action, e.client, e.server);
  }

  addViolation(k: ViolationKey, d: ViolationDelta): void {
    this.n.push(VIOLATION, k.serverPort, k.proto, k.ruleId, d.side, d.clientCount, d.serverCount, d.firstSeen, d.lastSeen);
    this.s.push(k.clientWorkload, k.serverWorkload, k.clientIp, k.serverIp, k.app, k.action, d.source);
  }

  addHit(ruleId: number, sessions: number, at: number): void {
    this.n.push(HIT, ruleId, sessions, at);
  }

  addDns(name: string, ip: string, at: number): void {
    this.n.push(DNS, at);
    this.s.push(name, ip);
  }

  addReport(agentId: string, batchId: string, at: number): void {
    this.n.push(REPORT, at);
    this.s.push(agentId, batchId);
  }

  encode(): EncodedOps {
    return { records: this.records, strings: JSON.stringify(this.s), numbers: Float64Array.from(this.n) };
  }
}

/**
 * Makes the recorded calls again on `into`. A conversation's three arguments are the same three
 * objects refilled for each call (a sink copies what it keeps): three objects per record were
 * most of the writer thread's garbage.
 */
export function replay(ops: EncodedOps, into: IngestSink): void {
  const s = JSON.parse(ops.strings) as string[];
  const n = ops.numbers;
  into.records += ops.records;
  const k: ConversationKey = { bucket: 0, serverPort: 0, proto: 0, ruleId: 0, clientWorkload: '', serverWorkload: '', clientIp: '', serverIp: '', app: '', action: 'allow' };
  const d: ConversationDelta = { side: 0, bytes: 0, packets: 0, sessions: 0, violations: 0, threatSeverity: 0, firstSeen: 0, lastSeen: 0 };
  const e: EdgeEnds = { client: '', clientKind: 0, server: '', serverKind: 0 };
  let i = 0;
  let j = 0;
  while (i < n.length) {
    switch (n[i]) {
      case CONVERSATION:
        k.bucket = n[i + 1];
        k.serverPort = n[i + 2];
        k.proto = n[i + 3];
        k.ruleId = n[i + 4];
        k.clientWorkload = s[j];
        k.serverWorkload = s[j + 1];
        k.clientIp = s[j + 2];
        k.serverIp = s[j + 3];
        k.app = s[j + 4];
        k.action = s[j + 5] as Verdict;
        d.side = n[i + 5];
        d.bytes = n[i + 6];
        d.packets = n[i + 7];
        d.sessions = n[i + 8];
        d.violations = n[i + 9];
        d.threatSeverity = n[i + 10];
        d.firstSeen = n[i + 11];
        d.lastSeen = n[i + 12];
        e.client = s[j + 6];
        e.clientKind = n[i + 13];
        e.server = s[j + 7];
        e.serverKind = n[i + 14];
        into.addConversation(k, d, e);
        i += 15;
        j += 8;
        break;
      case VIOLATION:
        into.addViolation(
          { serverPort: n[i + 1], proto: n[i + 2], ruleId: n[i + 3], clientWorkload: s[j], serverWorkload: s[j + 1], clientIp: s[j + 2], serverIp: s[j + 3], app: s[j + 4], action: s[j + 5] as 'deny' | 'violate' },
          { side: n[i + 4], clientCount: n[i + 5], serverCount: n[i + 6], firstSeen: n[i + 7], lastSeen: n[i + 8], source: s[j + 6] as 'dp' | 'nflog' },
        );
        i += 9;
        j += 7;
        break;
      case HIT:
        into.addHit(n[i + 1], n[i + 2], n[i + 3]);
        i += 4;
        break;
      case DNS:
        into.addDns(s[j], s[j + 1], n[i + 1]);
        i += 2;
        j += 2;
        break;
      case REPORT:
        into.addReport(s[j], s[j + 1], n[i + 1]);
        i += 2;
        j += 2;
        break;
      default:
        throw new Error(`ingest op log: unknown call code ${n[i]} at ${i}`);
    }
  }
}
