/**
 * 1,000,000 concurrent sessions: feeds that many distinct TCP flows (every fourth over IPv6) into
 * one DataPlane and reports the process's resident memory with all of them open. Run with
 * --expose-gc so the figure is taken after a full collection. Prints one JSON line.
 *
 * Usage: node --expose-gc sessions.js [mode] [flows]. Modes, each flow getting:
 *   request    SYN, SYN-ACK, ACK and a small HTTP request (DPI keeps following, waiting for the
 *              reply: the worst case for classification memory)
 *   exchange   the same plus the HTTP response (DPI finishes; findings stay with the session)
 *   handshake  SYN, SYN-ACK, ACK only (the session table alone)
 *
 * All frames are built in one reused scratch buffer: the bench measures the data plane's memory,
 * not a million frames held by the bench.
 */
import { DataPlane } from '../dist/engine/data-plane.js';

const MODE = process.argv[2] ?? 'request';
const FLOWS = Number(process.argv[3] ?? 1_000_000);
if (!['request', 'exchange', 'handshake'].includes(MODE)) throw new Error(`unknown mode ${MODE}`);
/** Capture seconds the flows are spread over: below every idle timeout and the 5 s report interval. */
const SPAN = 4;
const LINKTYPE_ETHERNET = 1;
const CLIENT_HOSTS = 4096;
const SERVERS = 200;
const REQUEST = new TextEncoder().encode('GET /api/v1/items HTTP/1.1\r\nHost: svc.internal\r\nUser-Agent: bench\r\n\r\n');
const RESPONSE = new TextEncoder().encode('HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n');
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const frame = new Uint8Array(14 + 40 + 20 + Math.max(REQUEST.length, RESPONSE.length));
const view = new DataView(frame.buffer);
const client = new Uint8Array(16);
const server = new Uint8Array(16);

/** Writes one Ethernet/IP/TCP frame into `frame` and returns its length. */
function build(v6, src, dst, sport, dport, seq, ack, flags, data) {
  const payload = data ? data.length : 0;
  view.setUint32(0, 0x02000000); // locally administered MACs
  view.setUint16(4, 0x0001);
  view.setUint32(6, 0x02000000);
  view.setUint16(10, 0x0002);
  view.setUint16(12, v6 ? 0x86dd : 0x0800);
  let l4;
  if (v6) {
    view.setUint32(14, 0x60000000);
    view.setUint16(18, 20 + payload);
    frame[20] = 6;
    frame[21] = 64;
    frame.set(src, 22);
    frame.set(dst, 38);
    l4 = 54;
  } else {
    frame[14] = 0x45;
    frame[15] = 0;
    view.setUint16(16, 40 + payload);
    view.setUint32(18, 0x40000000); // id 0, don't fragment
    frame[22] = 64;
    frame[23] = 6;
    view.setUint16(24, 0); // checksum: the data plane does not verify it
    frame.set(src.subarray(12, 16), 26);
    frame.set(dst.subarray(12, 16), 30);
    l4 = 34;
  }
  view.setUint16(l4, sport);
  view.setUint16(l4 + 2, dport);
  view.setUint32(l4 + 4, seq);
  view.setUint32(l4 + 8, ack);
  frame[l4 + 12] = 5 << 4;
  frame[l4 + 13] = flags;
  view.setUint32(l4 + 14, 0xfaf00000); // window 64240, checksum 0
  view.setUint16(l4 + 18, 0);
  if (data) frame.set(data, l4 + 20);
  return l4 + 20 + payload;
}

function setAddress(out, v6, net, host) {
  out.fill(0);
  if (v6) {
    out.set([0xfd, 0x00, 0x00, net]);
    out[14] = host >> 8;
    out[15] = host & 0xff;
  } else {
    out[10] = out[11] = 0xff;
    out.set([10, net, (host >> 8) & 0xff, host & 0xff], 12);
  }
}

const rssBefore = process.memoryUsage().rss;
const dp = new DataPlane({ sessions: 1 << 20 });
gc();
const rssEmpty = process.memoryUsage().rss;

const started = process.hrtime.bigint();
const t0 = 1_767_225_600;
for (let i = 0; i < FLOWS; i++) {
  const v6 = (i & 3) === 3;
  // Distinct (client host, client port) per flow: 4096 hosts, each on a new port every round.
  setAddress(client, v6, 64, (i % CLIENT_HOSTS) + 1);
  setAddress(server, v6, 1, (i % SERVERS) + 1);
  const cport = 32768 + Math.floor(i / CLIENT_HOSTS);
  const ts = t0 + (i / FLOWS) * SPAN;
  const cseq = Math.imul(i, 2654435761) >>> 0;
  const sseq = Math.imul(i ^ 0x5bd1e995, 2246822519) >>> 0;
  let n = build(v6, client, server, cport, 80, cseq, 0, SYN, null);
  dp.handleFrame(LINKTYPE_ETHERNET, frame, 0, n, n, ts, 0);
  n = build(v6, server, client, 80, cport, sseq, (cseq + 1) >>> 0, SYN | ACK, null);
  dp.handleFrame(LINKTYPE_ETHERNET, frame, 0, n, n, ts + 0.0002, 0);
  n = build(v6, client, server, cport, 80, (cseq + 1) >>> 0, (sseq + 1) >>> 0, ACK, null);
  dp.handleFrame(LINKTYPE_ETHERNET, frame, 0, n, n, ts + 0.0003, 0);
  if (MODE === 'handshake') continue;
  n = build(v6, client, server, cport, 80, (cseq + 1) >>> 0, (sseq + 1) >>> 0, PSH | ACK, REQUEST);
  dp.handleFrame(LINKTYPE_ETHERNET, frame, 0, n, n, ts + 0.0004, 0);
  if (MODE === 'request') continue;
  n = build(v6, server, client, 80, cport, (sseq + 1) >>> 0, (cseq + 1 + REQUEST.length) >>> 0, PSH | ACK, RESPONSE);
  dp.handleFrame(LINKTYPE_ETHERNET, frame, 0, n, n, ts + 0.0009, 0);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
gc();
const mem = process.memoryUsage();
const c = dp.counters();
console.log(JSON.stringify({
  mode: MODE,
  flows: FLOWS,
  packets: c.packets,
  sessionsActive: c.sessionsActive,
  sessionsEvicted: c.sessionsEvicted,
  dpiActive: c.dpiActive,
  dpiOverflow: c.dpiOverflow,
  seconds: Number(seconds.toFixed(3)),
  rssBeforeMiB: +(rssBefore / 2 ** 20).toFixed(1),
  rssEmptyTableMiB: +(rssEmpty / 2 ** 20).toFixed(1),
  rssMiB: +(mem.rss / 2 ** 20).toFixed(1),
  heapUsedMiB: +(mem.heapUsed / 2 ** 20).toFixed(1),
  arrayBuffersMiB: +(mem.arrayBuffers / 2 ** 20).toFixed(1),
}));
