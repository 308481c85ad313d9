/**
 * Protect-mode drops the agent read from NFLOG. A drop at a client's egress is known only from
 * here (tc egress runs after netfilter, so no data plane saw the packet): it counts as a denied
 * conversation and a violation of the client's end. A drop at a server's ingress was also seen by
 * the server's data plane (tc ingress runs before netfilter) and counted from its report, so it
 * only marks the violation as enforced by the server and refreshes when it was last seen.
 */
import type { ViolationRecord } from '../grpc/convert.js';
import type { Context } from '../server/context.js';
import { addressBook } from './address-book.js';
import { CLIENT, RAW_BUCKET_MS } from './batch.js';
import { commitBatch } from './commit.js';
import { endsOf, reporter, toMs, type ReportId } from './connections.js';
import { trafficStats } from './traffic-stats.js';

export async function ingestViolations(ctx: Context, agentId: string, items: ViolationRecord[], report?: ReportId): Promise<void> {
  const book = await addressBook(ctx);
  const agent = await ctx.store.db.selectFrom('agents').select('host').where('id', '=', agentId).executeTakeFirst();
  const host = agent?.host ?? '';
  const stats = trafficStats(ctx);
  const now = ctx.now();
  const counted: { client: string; server: string; count: number }[] = [];

  await commitBatch(ctx, (batch) => {
    batch.records += items.length;
    for (const v of items) {
      const ends = endsOf(book, host, reporter(book, agentId, v.workloadId), v.direction, v.client, v.server);
      const at = toMs(v.ts);
      const egress = ends.side === CLIENT;
      // NFLOG knows no application: the packet was dropped before any payload was seen.
      const key = { clientWorkload: ends.client, serverWorkload: ends.server, clientIp: v.client, serverIp: v.server, serverPort: v.serverPort, proto: v.proto, app: 'unknown', ruleId: v.ruleId };
      batch.addViolation({ ...key, action: 'deny' }, { side: ends.side, source: 'nflog', clientCount: egress ? v.count : 0, serverCount: 0, firstSeen: at, lastSeen: at });
      if (!egress) continue;
      batch.addConversation(
        { ...key, bucket: at - (at % RAW_BUCKET_MS), action: 'deny' },
        { side: CLIENT, bytes: 0, packets: v.count, sessions: v.count, violations: v.count, threatSeverity: 0, firstSeen: at, lastSeen: at },
        book.edgeEnds(ends.client, v.client, ends.server, v.server),
      );
      batch.addHit(v.ruleId, v.count, at);
      counted.push({ client: ends.client, server: ends.server, count: v.count });
    }
    if (report) batch.addReport(report.agentId, report.batchId, now);
  });

  for (const c of counted) {
    stats.add('', now, 0, c.count, c.count, c.count);
    if (c.client !== '') stats.add(c.client, now, 0, c.count, c.count, c.count);
    if (c.server !== '') stats.add(c.server, now, 0, c.count, c.count, c.count);
  }
  // Counts of records stored, for the UI to know it has something new to fetch.
  if (counted.length > 0) ctx.events.emit('connections', { count: counted.length });
  if (items.length > 0) ctx.events.emit('violations', { count: items.length });
}
