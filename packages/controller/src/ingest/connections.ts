/**
 * Connection reports → conversations. Both ends of a connection between two monitored workloads
 * report it (the client's data plane as egress, the server's as ingress); both reports land in
 * the same conversation row (key without the reporting end), and its counters are counted once:
 *
 * The counters come from one authoritative end per record, decided from the address book: the
 * server's report when the server is a running, monitored workload whose agent is online (its
 * data plane sees every packet sent to it, even those its Protect table then drops, because tc
 * ingress runs before netfilter); otherwise the client's, which is then the only report there
 * will be. The other end's report still marks the row (enforced_by becomes 'both') but adds 0.
 *
 * Not per-bucket side markers or max() of the two ends: each data plane's 5 s interval starts
 * when that data plane started, so the two ends' deltas of the same traffic fall into different
 * 5 s slots, and any per-slot reconciliation counts the unmatched slots twice. A fixed choice of
 * end is exact whenever both report, and needs no read before the write.
 */
import type { ConnectionRecord } from '@mseg/dp';
import type { Context } from '../server/context.js';
import { addressBook, type AddressBook, type WorkloadRef } from './address-book.js';
import { CLIENT, RAW_BUCKET_MS, SERVER, type IngestSink, type Verdict } from './batch.js';
import { commitBatch } from './commit.js';
import { trafficStats } from './traffic-stats.js';

export interface DnsAnswer {
  name: string;
  ip: string;
}

/** Who is who in one record: the two workloads ('' = not a known workload) and which end reported. */
export interface Ends {
  side: typeof CLIENT | typeof SERVER;
  client: string;
  server: string;
  /** This report's counters are the conversation's (see the file comment). */
  authoritative: boolean;
}

/** `at`: the record's capture time (ms), which of several owners of an address it was (see AddressBook). */
export function endsOf(book: AddressBook, host: string, workloadId: string, direction: string, clientIp: string, serverIp: string, at?: number): Ends {
  const serverRef = book.resolve(serverIp, host, at);
  // 'none' comes from a data plane that could not tell (no MAC/IP match): the reporter is the
  // server when it owns the server address, else the client.
  const side = direction === 'ingress' || (direction !== 'egress' && serverRef?.id === workloadId) ? SERVER : CLIENT;
  if (side === SERVER) return { side, client: book.resolve(clientIp, host, at)?.id ?? '', server: workloadId, authoritative: true };
  return { side, client: workloadId, server: serverRef?.id ?? '', authoritative: !book.reports(serverRef as WorkloadRef | undefined) };
}

/** An agent speaks only for its own workloads: a record naming another agent's is kept anonymous. */
export function reporter(book: AddressBook, agentId: string, workloadId: string): string {
  const ref = book.byId.get(workloadId);
  return ref && ref.agentId !== agentId ? '' : workloadId;
}

/** The agent's report batch this ingest stands for, recorded in the same transaction. */
export interface ReportId {
  agentId: string;
  batchId: string;
}

export function toMs(seconds: number): number {
  return Math.floor(seconds * 1000);
}

/**
 * Stores one report's connection records (and the DNS answers its data plane saw); resolves once
 * they are committed, together with the other reports of the same group commit.
 */
export async function ingestConnections(
  ctx: Context,
  agentId: string,
  host: string,
  items: ConnectionRecord[],
  dnsAnswers: DnsAnswer[],
  report?: ReportId,
): Promise<void> {
  const book = await addressBook(ctx);
  const counted: { client: string; server: string; bytes: number; packets: number; sessions: number; violations: number }[] = [];
  let violating = 0;

  const now = ctx.now();
  await commitBatch(ctx, (batch: IngestSink) => {
    batch.records += items.length + dnsAnswers.length;
    for (const r of items) {
      const first = toMs(r.firstSeen);
      const ends = endsOf(book, host, reporter(book, agentId, r.workloadId), r.direction, r.client, r.server, first);
      const action: Verdict = r.action === 'none' ? 'allow' : r.action;
      const last = toMs(r.lastSeen);
      const k = ends.authoritative ? 1 : 0;
      const bytes = (r.bytesToServer + r.bytesToClient) * k;
      const packets = (r.packetsToServer + r.packetsToClient) * k;
      const sessions = r.sessions * k;
      const violations = r.violations * k;
      batch.addConversation(
        {
          bucket: last - (last % RAW_BUCKET_MS),
          clientWorkload: ends.client,
          serverWorkload: ends.server,
          clientIp: r.client,
          serverIp: r.server,
          serverPort: r.serverPort,
          proto: r.proto,
          app: r.app,
          action,
          ruleId: r.ruleId,
        },
        { side: ends.side, bytes, packets, sessions, violations, threatSeverity: r.threatSeverity, firstSeen: first, lastSeen: last },
        book.edgeEnds(ends.client, r.client, ends.server, r.server),
      );
      if (action !== 'allow') {
        violating++;
        batch.addViolation(
          { clientWorkload: ends.client, serverWorkload: ends.server, clientIp: r.client, serverIp: r.server, serverPort: r.serverPort, proto: r.proto, app: r.app, action, ruleId: r.ruleId },
          {
            side: ends.side,
            source: 'dp',
            clientCount: ends.side === CLIENT ? r.sessions : 0,
            serverCount: ends.side === SERVER ? r.sessions : 0,
            firstSeen: first,
            lastSeen: last,
          },
        );
      }
      if (ends.authoritative) {
        batch.addHit(r.ruleId, r.sessions, last);
        counted.push({ client: ends.client, server: ends.server, bytes, packets, sessions, violations });
      }
    }
    for (const d of dnsAnswers) batch.addDns(d.name.toLowerCase(), d.ip, now);
    if (report) batch.addReport(report.agentId, report.batchId, now);
  });

  const stats = trafficStats(ctx);
  for (const c of counted) {
    stats.add('', now, c.bytes, c.packets, c.sessions, c.violations);
    if (c.client !== '') stats.add(c.client, now, c.bytes, c.packets, c.sessions, c.violations);
    if (c.server !== '' && c.server !== c.client) stats.add(c.server, now, c.bytes, c.packets, c.sessions, c.violations);
  }
  // Counts of records stored, for the UI to know it has something new to fetch.
  if (items.length > 0) ctx.events.emit('connections', { count: items.length });
  if (violating > 0) ctx.events.emit('violations', { count: violating });
}
