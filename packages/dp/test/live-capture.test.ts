// Acceptance test of the live data plane, end to end as deployed: a client and a server namespace
// joined by a veth; the server's end mirrored with tc (clsact + u32 + mirred, both directions)
// onto an nv-ex/nv-in pair into a capture namespace; `mseg-dp run` capturing there, driven through
// its control socket like the agent drives it (port_add, policy_set) and capturing unbound, as
// deployed; real HTTP (node) and DNS (dnsmasq) servers, real curl and dig clients. Asserts the
// connection reports that arrive, and that a bad control frame costs only its own connection.
//
// Report timing: the DP keeps its default 5 s report interval (no `config` message), because the
// promise under test is the design's: a connection shows up within 6 s of its traffic (one
// interval plus a second of slack). A shorter interval would make that bound say nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, MAX_FRAME } from '../src/control/framing.js';
import type { ConnectionRecord } from '../src/report/connection-aggregator.js';
import { ControlClient } from './helpers/control-client.js';
import { createMirrorTopology, execInNetns, type MirrorTopology } from './helpers/netns.js';
import { startProcess, stopProcess, type Started } from './helpers/process.js';
import { DP_CLI } from './helpers/replay-cli.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('live-capture.test.ts skipped: network namespaces, veths and tc need root');

/** A connection must be reported within this many ms after its client finished. */
const REPORT_DEADLINE_MS = 6_000;
const HTTP_BODY_BYTES = 150_000;
const EGRESS_PORT = 8080;
// .test is reserved for testing (RFC 2606); .local would be mDNS and make dig warn.
const DNS_ZONE = 'mseg.test';
const DNS_NAME = `app.${DNS_ZONE}`;
const DNS_ANSWER = '10.231.9.9';
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER_MIN = 20;
const TCP_HEADER_MAX = 60;
const UDP_HEADER = 8;
/** The veths' default MTU: no retransmitted segment carries more payload than fits in it. */
const MTU = 1500;

/** Serves HTTP_BODY_BYTES zero bytes on every path, on [::] (v4 and v6) at the port in argv. */
const HTTP_SERVER = `
const port = Number(process.argv[1]);
const body = Buffer.alloc(${HTTP_BODY_BYTES});
require('node:http').createServer((req, res) => res.end(body)).listen(port, '::', () => console.log('listening on ' + port));
`;

let topo: MirrorTopology | undefined;
let tmp: string | undefined;
let dp: Started | undefined;
let agent: ControlClient | undefined;
const servers: Started[] = [];

/** What one client run moved, as the client itself reported it, and when it finished. */
interface Transfer {
  doneAt: number;
  payloadToServer: number;
  payloadToClient: number;
}

/** The sum of every reported record of one connection key, and when the last part arrived. */
interface Reported {
  records: ConnectionRecord[];
  bytesToServer: number;
  bytesToClient: number;
  packetsToServer: number;
  packetsToClient: number;
  sessions: number;
  violations: number;
  arrivedAt: number;
}

type Expected = Pick<ConnectionRecord, 'workloadId' | 'client' | 'server' | 'serverPort' | 'proto' | 'app' | 'direction' | 'ruleId' | 'action'>;

const KEY_FIELDS = ['workloadId', 'client', 'server', 'serverPort', 'proto', 'app', 'direction', 'ruleId', 'action'] as const;

function sameKey(r: ConnectionRecord, e: Expected): boolean {
  return KEY_FIELDS.every((k) => r[k] === e[k]);
}

/** Every record of the client/server pair so far, to show what arrived instead when a wait fails. */
function recordsBetween(client: ControlClient, a: string, b: string): string {
  const lines: string[] = [];
  for (const r of client.received) {
    if (r.msg.type !== 'connections') continue;
    for (const c of r.msg.items) if (c.client === a && c.server === b) lines.push(JSON.stringify(c));
  }
  return lines.length ? lines.join('\n') : '(none)';
}

/**
 * Waits until the records with exactly the expected key add up to a complete transfer per
 * `complete`, at most until REPORT_DEADLINE_MS after the transfer ended.
 */
async function awaitReported(e: Expected, t: Transfer, complete: (r: Reported) => boolean): Promise<Reported> {
  const client = agent!;
  const sum: Reported = {
    records: [], bytesToServer: 0, bytesToClient: 0, packetsToServer: 0, packetsToClient: 0, sessions: 0, violations: 0, arrivedAt: 0,
  };
  const budget = Math.max(0, t.doneAt + REPORT_DEADLINE_MS - Date.now());
  try {
    return await client.waitFor((r) => {
      if (r.msg.type !== 'connections') return undefined;
      for (const c of r.msg.items) {
        if (!sameKey(c, e)) continue;
        sum.records.push(c);
        sum.bytesToServer += c.bytesToServer;
        sum.bytesToClient += c.bytesToClient;
        sum.packetsToServer += c.packetsToServer;
        sum.packetsToClient += c.packetsToClient;
        sum.sessions += c.sessions;
        sum.violations += c.violations;
        sum.arrivedAt = r.at;
      }
      return sum.records.length > 0 && complete(sum) ? sum : undefined;
    }, budget, `complete report of ${JSON.stringify(e)}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nrecords of ${e.client} → ${e.server} that arrived:\n${recordsBetween(client, e.client, e.server)}`);
  }
}

/** curl's own count of what it sent and received (request; status line, headers and body). */
async function curl(ns: string, url: string): Promise<Transfer> {
  const out = await execInNetns(ns, 'curl', [
    '--silent', '--show-error', '--fail', '--max-time', '10', '--globoff', '--noproxy', '*',
    '--output', '/dev/null', '--write-out', '%{size_request} %{size_header} %{size_download}', url,
  ]);
  const doneAt = Date.now();
  const [request, header, body] = out.trim().split(' ').map(Number);
  expect(body).toBe(HTTP_BODY_BYTES);
  return { doneAt, payloadToServer: request, payloadToClient: header + body };
}

/** One DNS query with no retry; dig's QUERY SIZE and MSG SIZE give the exact payload of each datagram. */
async function dig(ns: string, server: string): Promise<Transfer> {
  const out = await execInNetns(ns, 'dig', ['+qr', '+tries=1', '+time=3', `@${server}`, DNS_NAME, 'A']);
  const doneAt = Date.now();
  expect(out).toMatch(new RegExp(`^${DNS_NAME.replace(/\./g, '\\.')}\\.\\s+\\d+\\s+IN\\s+A\\s+${DNS_ANSWER.replace(/\./g, '\\.')}$`, 'm'));
  const sent = /QUERY SIZE: (\d+)/.exec(out);
  const rcvd = /MSG SIZE\s+rcvd: (\d+)/.exec(out);
  if (!sent || !rcvd) throw new Error(`dig printed no message sizes:\n${out}`);
  return { doneAt, payloadToServer: Number(sent[1]), payloadToClient: Number(rcvd[1]) };
}

/**
 * Reported bytes are IP lengths: the transferred payload plus one IP and TCP header per packet.
 * A complete report covers all payload (bytes minus the smallest possible headers reach it).
 */
function tcpComplete(t: Transfer, ipHeader: number): (r: Reported) => boolean {
  return (r) =>
    r.bytesToServer - r.packetsToServer * (ipHeader + TCP_HEADER_MIN) >= t.payloadToServer &&
    r.bytesToClient - r.packetsToClient * (ipHeader + TCP_HEADER_MIN) >= t.payloadToClient;
}

/**
 * Segments the namespace's TCP stack sent again (RetransSegs in its own /proc/net/snmp). A tail
 * loss probe fires when an ACK is late on a busy machine, and the DP rightly counts the copy.
 */
async function tcpRetransSegs(ns: string): Promise<number> {
  const lines = (await execInNetns(ns, 'cat', ['/proc/net/snmp'])).split('\n').filter((l) => l.startsWith('Tcp:'));
  const at = lines[0]?.split(/\s+/).indexOf('RetransSegs') ?? -1;
  if (lines.length !== 2 || at < 0) throw new Error(`no Tcp RetransSegs in /proc/net/snmp of ${ns}`);
  return Number(lines[1].split(/\s+/)[at]);
}

/**
 * Payload plus one IP and TCP header per packet, plus at most one full segment per retransmission
 * that either end made while the test ran.
 */
function expectTcpBytes(r: Reported, t: Transfer, ipHeader: number, retransmitted: number): void {
  const what = `${JSON.stringify(r.records)} against ${JSON.stringify(t)}, ${retransmitted} segments retransmitted`;
  const segment = MTU - ipHeader - TCP_HEADER_MIN;
  for (const [side, bytes, packets, payload] of [
    ['to server', r.bytesToServer, r.packetsToServer, t.payloadToServer],
    ['to client', r.bytesToClient, r.packetsToClient, t.payloadToClient],
  ] as const) {
    expect(packets, `packets ${side}: ${what}`).toBeGreaterThan(0);
    expect(bytes - payload, `header bytes ${side}: ${what}`).toBeGreaterThanOrEqual(packets * (ipHeader + TCP_HEADER_MIN));
    expect(bytes - payload, `header bytes ${side}: ${what}`).toBeLessThanOrEqual(packets * (ipHeader + TCP_HEADER_MAX) + retransmitted * segment);
  }
}

function expectInTime(r: Reported, t: Transfer): void {
  expect(r.arrivedAt - t.doneAt).toBeLessThanOrEqual(REPORT_DEADLINE_MS);
}

describe.skipIf(!isRoot)('live data plane behind a tc mirror (needs root)', () => {
  beforeAll(async () => {
    topo = createMirrorTopology();
    tmp = mkdtempSync(join(tmpdir(), `msdp${topo.id}-`));
    const t = topo;
    const node = process.execPath;
    servers.push(await startProcess('http server (srv)', 'ip', ['netns', 'exec', t.srvNs, node, '-e', HTTP_SERVER, '80'], /listening on 80/));
    servers.push(await startProcess('http server (cli)', 'ip', ['netns', 'exec', t.cliNs, node, '-e', HTTP_SERVER, String(EGRESS_PORT)], /listening on/));
    servers.push(await startProcess('dnsmasq (srv)', 'ip', [
      'netns', 'exec', t.srvNs, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--log-facility=-',
      // Answers only the test zone from its own table and never forwards anywhere.
      '--no-resolv', '--no-hosts', '--no-poll', `--address=/${DNS_ZONE}/${DNS_ANSWER}`,
      '--bind-interfaces', `--listen-address=${t.srv4}`, `--listen-address=${t.srv6}`, '--port=53',
      // No pid file and no privilege drop: nothing outside the namespace to create or clean up, and
      // no dependency on the service user of the full dnsmasq package.
      '--pid-file=', '--user=root',
    ], /started, version/));
    const socket = join(tmp, 'dp.sock');
    dp = await startProcess('mseg-dp', node, [DP_CLI, 'run', '--socket', socket, '--netns', t.capNs], /mseg-dp: capturing/);
    agent = await ControlClient.connect(socket);
    await agent.request({ type: 'port_add', ifindex: t.tapIfindex, workloadId: 'srv', macs: [t.srvMac], ips: [t.srv4, t.srv6] });
    await agent.request({
      type: 'policy_set',
      workloadId: 'srv',
      mode: 'monitor',
      rules: [
        { id: 10, from: [t.cli4, t.cli6], to: ['any'], ports: 'tcp/80', apps: ['HTTP'], action: 'allow' },
        // DNS is allowed only from elsewhere, so the client's queries fall to the implicit deny.
        { id: 20, from: ['192.0.2.0/24'], to: ['any'], ports: 'udp/53', apps: ['DNS'], action: 'allow' },
      ],
    });
  });

  afterAll(async () => {
    const problems: string[] = [];
    await agent?.close();
    if (dp) await stopProcess(dp);
    for (const s of servers) await stopProcess(s);
    topo?.remove();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    for (const p of [dp, ...servers]) {
      if (p && p.child.exitCode === null && p.child.signalCode === null) problems.push(`${p.name} still running`);
    }
    if (topo) problems.push(...topo.leftovers());
    if (problems.length) throw new Error(`cleanup left:\n${problems.join('\n')}`);
  });

  it('closes only the connection that sends a bad frame, with the reason, and keeps serving', async () => {
    const overLimit = Buffer.alloc(4);
    overLimit.writeUInt32BE(MAX_FRAME + 1, 0);
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('hello')]);
    const badPort = encodeFrame({ type: 'port_add', ifindex: -1, workloadId: 'x', macs: ['not-a-mac'], ips: [] });
    const cases: [Buffer, RegExp][] = [
      [notJson, /not valid JSON/],
      [badPort, /bad message: .*ifindex/],
      [overLimit, /exceeds the \d+-byte limit/],
    ];
    for (const [bytes, reason] of cases) {
      const bad = await ControlClient.connect(join(tmp!, 'dp.sock'));
      bad.sendRaw(bytes);
      const err = await bad.waitFor((r) => (r.msg.type === 'error' ? r.msg.reason : undefined), 5_000, 'error message');
      expect(err).toMatch(reason);
      await bad.closed;
      expect(bad.isOpen).toBe(false);
    }
    expect(agent!.isOpen).toBe(true);
    agent!.send({ type: 'keepalive', seq: 4242 });
    const alive = await agent!.waitFor((r) => (r.msg.type === 'keepalive' && r.msg.seq === 4242 ? r.msg : undefined), 5_000, 'keepalive answer');
    expect(alive.uptime).toBeGreaterThan(0);
  });

  it('reports real HTTP and DNS over IPv4 and IPv6 with app, bytes, direction and verdict within 6 s', async () => {
    const t = topo!;
    const retransBefore = (await tcpRetransSegs(t.cliNs)) + (await tcpRetransSegs(t.srvNs));
    // Each client runs to completion before the next, so every flow has its own end time.
    const http4 = await curl(t.cliNs, `http://${t.srv4}/v4`);
    const dns4 = await dig(t.cliNs, t.srv4);
    const http6 = await curl(t.cliNs, `http://[${t.srv6}]/v6`);
    const dns6 = await dig(t.cliNs, t.srv6);
    const egress = await curl(t.srvNs, `http://${t.cli4}:${EGRESS_PORT}/out`);

    const httpIn = { workloadId: 'srv', serverPort: 80, proto: 6, app: 'HTTP', direction: 'ingress', ruleId: 10, action: 'allow' } as const;
    const dnsIn = { workloadId: 'srv', serverPort: 53, proto: 17, app: 'DNS', direction: 'ingress', ruleId: 0, action: 'violate' } as const;

    const h4 = await awaitReported({ ...httpIn, client: t.cli4, server: t.srv4 }, http4, tcpComplete(http4, IPV4_HEADER));
    const h6 = await awaitReported({ ...httpIn, client: t.cli6, server: t.srv6 }, http6, tcpComplete(http6, IPV6_HEADER));
    // The server's own outgoing call: its egress, matched by no rule (rule 10 is for port 80).
    const out = await awaitReported(
      { workloadId: 'srv', client: t.srv4, server: t.cli4, serverPort: EGRESS_PORT, proto: 6, app: 'HTTP', direction: 'egress', ruleId: 0, action: 'violate' },
      egress, tcpComplete(egress, IPV4_HEADER),
    );
    // Read after the reports arrived, when every segment of these connections has long been sent.
    const retransmitted = (await tcpRetransSegs(t.cliNs)) + (await tcpRetransSegs(t.srvNs)) - retransBefore;
    for (const [r, tr, ipHeader] of [[h4, http4, IPV4_HEADER], [h6, http6, IPV6_HEADER], [out, egress, IPV4_HEADER]] as const) {
      expectInTime(r, tr);
      expectTcpBytes(r, tr, ipHeader, retransmitted);
      expect(r.sessions).toBe(1);
    }
    expect(h4.violations).toBe(0);
    expect(h6.violations).toBe(0);
    expect(out.violations).toBe(1);

    for (const [tr, client, server, ipHeader] of [[dns4, t.cli4, t.srv4, IPV4_HEADER], [dns6, t.cli6, t.srv6, IPV6_HEADER]] as const) {
      const r = await awaitReported({ ...dnsIn, client, server }, tr, (s) => s.packetsToServer > 0 && s.packetsToClient > 0);
      expectInTime(r, tr);
      // One query datagram and one answer, each exactly the DNS message plus its IP and UDP headers.
      expect([r.packetsToServer, r.packetsToClient]).toEqual([1, 1]);
      expect(r.bytesToServer).toBe(ipHeader + UDP_HEADER + tr.payloadToServer);
      expect(r.bytesToClient).toBe(ipHeader + UDP_HEADER + tr.payloadToClient);
      expect([r.sessions, r.violations]).toEqual([1, 1]);
    }
  });
});
