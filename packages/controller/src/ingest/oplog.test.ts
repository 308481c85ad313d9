import { describe, expect, it } from 'vitest';
import { CLIENT, SERVER, type ConversationDelta, type ConversationKey, type IngestSink, type ViolationDelta, type ViolationKey } from './batch.js';
import type { EdgeEnds } from './address-book.js';
import { OpLog, replay } from './oplog.js';

/** Records the calls made on it, in order. */
class Calls implements IngestSink {
  records = 0;
  readonly seen: unknown[][] = [];
  addConversation(k: ConversationKey, d: ConversationDelta, e: EdgeEnds): void {
    this.seen.push(['conversation', { ...k }, { ...d }, { ...e }]);
  }
  addViolation(k: ViolationKey, d: ViolationDelta): void {
    this.seen.push(['violation', k, d]);
  }
  addHit(ruleId: number, sessions: number, at: number): void {
    this.seen.push(['hit', ruleId, sessions, at]);
  }
  addDns(name: string, ip: string, at: number): void {
    this.seen.push(['dns', name, ip, at]);
  }
  addReport(agentId: string, batchId: string, at: number): void {
    this.seen.push(['report', agentId, batchId, at]);
  }
}

describe('ingest op log', () => {
  it('replays every call with its values, in order, strings of any content included', () => {
    const key = { bucket: 1_700_000_005_000, clientWorkload: 'w"1', serverWorkload: '', clientIp: '10.0.0.1', serverIp: '2001:db8::1', serverPort: 443, proto: 6, app: 'TLS\n\u0000', action: 'violate' as const, ruleId: 7 };
    const delta = { side: CLIENT, bytes: 2 ** 40, packets: 9, sessions: 2, violations: 1, threatSeverity: 3, firstSeen: 1_700_000_001_234, lastSeen: 1_700_000_005_678 };
    const ends = { client: 'svc.web', clientKind: 0, server: 'external', serverKind: 2 };
    const vkey = { clientWorkload: 'w1', serverWorkload: 'w2', clientIp: 'a', serverIp: 'b', serverPort: 80, proto: 17, app: 'unknown', action: 'deny' as const, ruleId: 0 };
    const vdelta = { side: SERVER, source: 'nflog' as const, clientCount: 0, serverCount: 4, firstSeen: 1, lastSeen: 2 };
    const log = new OpLog();
    log.records = 3;
    log.addConversation(key, delta, ends);
    log.addHit(7, 2, 5);
    log.addViolation(vkey, vdelta);
    log.addDns('db.example', '10.0.0.2', 6);
    log.addReport('agent-a', 'b-1', 8);
    const key2 = { ...key, bucket: key.bucket + 5_000, serverWorkload: 'w2', action: 'allow' as const, ruleId: 8 };
    const delta2 = { ...delta, side: SERVER, bytes: 1 };
    const ends2 = { ...ends, server: 'svc.db', serverKind: 0 };
    log.addConversation(key2, delta2, ends2);
    const into = new Calls();
    into.records = 1;
    replay(log.encode(), into);
    expect(into.records).toBe(4);
    expect(into.seen).toEqual([
      ['conversation', key, delta, ends],
      ['hit', 7, 2, 5],
      ['violation', vkey, vdelta],
      ['dns', 'db.example', '10.0.0.2', 6],
      ['report', 'agent-a', 'b-1', 8],
      ['conversation', key2, delta2, ends2],
    ]);
  });

  it('refuses a log it cannot read, naming where', () => {
    expect(() => replay({ records: 0, strings: '[]', numbers: Float64Array.from([99]) }, new Calls())).toThrow(/unknown call code 99 at 0/);
  });
});
