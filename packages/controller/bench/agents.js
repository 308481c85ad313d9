/**
 * Simulated agents for `npm run bench:controller`, in their own process (forked by run.js, driven
 * over IPC): each is a real gRPC client with its own HTTP/2 connection, registers with the join
 * token, reports its workloads, then sends connection reports as the agent does.
 *
 * The estate: `agents × perAgent` workloads (10,000 by default), one service per 20 of them spread
 * over 20 hosts. Each workload calls `egress` others (a fixed set, as long-lived services do), so
 * every agent reports its workloads' egress records and the ingress records of the calls its
 * workloads receive — both ends of each connection, as real data planes do — about
 * `2 × perAgent × egress` records per report.
 *
 * Messages in: {cmd:'setup', ...}, {cmd:'paced', rounds, intervalMs}, {cmd:'flood', seconds}.
 * Messages out: {done: cmd, ...figures} or {error}.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AgentService, ConnectionSchema, Direction, ReportConnectionsRequestEncodedSchema, Verdict, WorkloadState } from '@mseg/proto';

/**
 * ReportConnections sending its connections pre-encoded (the controller's encoded view of the
 * request, the same bytes on the wire): each record is encoded once, and a report only writes its
 * new times into the bytes, so this process spends little of the shared cores per report.
 */
const Reporting = { ...AgentService, methods: [{ ...AgentService.method.reportConnections, input: ReportConnectionsRequestEncodedSchema }] };

/** A record's bytes with first_seen and last_seen (fields 15 and 16, doubles) last, at known offsets. */
function encodeRecord(rec) {
  const head = toBinary(ConnectionSchema, create(ConnectionSchema, rec));
  const bytes = new Uint8Array(head.length + 1 + 8 + 2 + 8);
  bytes.set(head);
  bytes[head.length] = (15 << 3) | 1;
  bytes[head.length + 9] = 0x81; // (16 << 3) | 1 as a varint
  bytes[head.length + 10] = 0x01;
  return { bytes, view: new DataView(bytes.buffer), first: head.length + 1, last: head.length + 11 };
}

const ip = (w) => `10.${64 + ((w >> 16) & 63)}.${(w >> 8) & 255}.${w & 255}`;

let cfg;
/** Per agent: { client, reporter (the ReportConnections client), opts, records (encodeRecord), request, seq } */
let agents = [];

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function buildRecords() {
  const W = cfg.agents * cfg.perAgent;
  const services = Math.max(1, Math.floor(W / 20));
  const agentOf = (w) => Math.floor(w / cfg.perAgent);
  const byAgent = Array.from({ length: cfg.agents }, () => []);
  for (let w = 0; w < W; w++) {
    for (let k = 0; k < cfg.egress; k++) {
      let s = (w * 7 + k * 1777 + 1) % W;
      if (s === w) s = (s + 1) % W;
      const port = 8000 + ((s % services) % 100);
      const violate = (w + k) % 10 === 0;
      const base = {
        client: ip(w),
        server: ip(s),
        serverPort: port,
        proto: 6,
        app: 'HTTP',
        ruleId: violate ? 0 : cfg.ruleId,
        action: violate ? Verdict.VIOLATE : Verdict.ALLOW,
        bytesToServer: BigInt(400 + ((w * 13 + k) % 5000)),
        bytesToClient: BigInt(2000 + ((s * 17 + k) % 20000)),
        packetsToServer: 6n,
        packetsToClient: 8n,
        sessions: 1 + ((w + k) % 3),
        violations: violate ? 1 : 0,
        threatSeverity: 0,
      };
      byAgent[agentOf(w)].push({ ...base, workloadId: `w${w}`, direction: Direction.EGRESS });
      byAgent[agentOf(s)].push({ ...base, workloadId: `w${s}`, direction: Direction.INGRESS });
    }
  }
  return byAgent;
}

async function setup(msg) {
  cfg = msg;
  const records = buildRecords();
  const W = cfg.agents * cfg.perAgent;
  const services = Math.max(1, Math.floor(W / 20));
  agents = records.map((recs, a) => {
    const encoded = recs.map(encodeRecord);
    return { a, records: encoded, request: { batchId: '', connections: encoded.map((e) => e.bytes), dnsAnswers: [] }, seq: 0 };
  });
  const t0 = performance.now();
  await pool(agents, 50, async (ag) => {
    // One transport per agent: its own HTTP/2 connection, as separate hosts have.
    const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${cfg.grpcPort}` });
    ag.client = createClient(AgentService, transport);
    ag.reporter = createClient(Reporting, transport);
    const host = `host-${ag.a}`;
    const r = await ag.client.register({ joinToken: cfg.joinToken, host, agentVersion: 'bench', previousAgentId: '' });
    ag.opts = { headers: { authorization: `Bearer ${r.agentId}.${r.credential}` } };
    const workloads = [];
    for (let w = ag.a * cfg.perAgent; w < (ag.a + 1) * cfg.perAgent; w++) {
      const svc = `svc${w % services}`;
      workloads.push({
        id: `w${w}`,
        name: `${svc}-${w}`,
        image: `registry.local/${svc}:1`,
        labels: { app: svc, team: `t${w % 40}` },
        service: svc,
        host,
        pid: 1000 + w,
        netns: `/proc/${1000 + w}/ns/net`,
        interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: [ip(w)] }],
        state: WorkloadState.RUNNING,
        reason: '',
      });
    }
    await ag.client.reportWorkloads({ full: true, workloads }, ag.opts);
  });
  const perReport = agents.map((ag) => ag.request.connections.length);
  return { setupMs: performance.now() - t0, records: perReport.reduce((s, n) => s + n, 0), minPerReport: Math.min(...perReport), maxPerReport: Math.max(...perReport) };
}

/** Sends one report of agent `ag`; resolves with its latency in ms. */
async function report(ag) {
  const now = Date.now() / 1000;
  for (const r of ag.records) {
    r.view.setFloat64(r.first, now - 4.5, true);
    r.view.setFloat64(r.last, now, true);
  }
  ag.request.batchId = `b${ag.seq++}`;
  const t = performance.now();
  await ag.reporter.reportConnections(ag.request, ag.opts);
  return performance.now() - t;
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);

/**
 * As deployed: each agent reports every interval, the agents' timers spread over the interval.
 * An agent whose previous report is still unanswered when the next is due has fallen behind.
 */
async function paced(msg) {
  const latencies = [];
  let late = 0;
  let records = 0;
  const t0 = performance.now() + 100;
  await Promise.all(
    agents.map(async (ag) => {
      const offset = (ag.a / agents.length) * msg.intervalMs;
      for (let r = 0; r < msg.rounds; r++) {
        const due = t0 + offset + r * msg.intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        else late++;
        latencies.push(await report(ag));
        records += ag.request.connections.length;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  return { records, seconds, late, reports: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) };
}

/** Capacity: every agent sends its next report as soon as the last is answered. */
async function flood(msg) {
  const end = performance.now() + msg.seconds * 1000;
  const t0 = performance.now();
  let records = 0;
  const latencies = [];
  await Promise.all(
    agents.map(async (ag) => {
      while (performance.now() < end) {
        latencies.push(await report(ag));
        records += ag.request.connections.length;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  return { records, seconds, reports: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

const handlers = { setup, paced, flood };
process.on('message', (msg) => {
  handlers[msg.cmd](msg).then(
    (r) => process.send({ done: msg.cmd, ...r }),
    (e) => process.send({ done: msg.cmd, error: e instanceof Error ? e.stack : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
