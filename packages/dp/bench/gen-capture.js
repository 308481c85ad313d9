/**
 * Builds the replay benchmark's capture from real traffic: small captures of real servers and
 * clients (templates) are copied many times with new addresses, client ports, TCP sequence numbers
 * and time stamps, so that the result looks like a busy host rather than one conversation
 * repeated. The file is cached under bench-data/ with a JSON description beside it and is rebuilt
 * only when the generator version or the templates change.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readCaptureFile } from '../dist/source/capture-file.js';

/** Bump whenever the output for the same templates would change. */
export const GENERATOR_VERSION = 3;

const TARGET_PACKETS = 2_100_000;
const TARGET_FLOWS = 100_000;
/** Copies start over this many seconds (Poisson arrivals), so the capture lasts a few minutes. */
const ARRIVAL_SPAN = 150;
/**
 * Each copy is stretched to a duration drawn log-uniformly from this range: templates recorded
 * between namespaces last milliseconds, real client sessions (WAN round trips, think time,
 * keep-alive) last seconds. With ~470 copies/s this keeps a few thousand flows open at once.
 */
const MIN_COPY_SECONDS = 1;
const MAX_COPY_SECONDS = 120;
/** IPv4 templates are drawn this many times more often than IPv6 ones. */
const V4_WEIGHT = 3;
/** Client hosts per address family; each copy's client gets the next host round-robin. */
const CLIENT_HOSTS = 16384;
/** Servers per template (one service scaled out behind several addresses). */
const SERVERS_PER_TEMPLATE = 32;
/** Client port slots per client host and copy: distinct ports keep every copied flow distinct. */
const PORT_SLOTS = 16;
const EPHEMERAL_BASE = 32768;
const EPHEMERAL_COUNT = 28232;
/** 2026-01-01T00:00:00Z: a fixed epoch keeps the file byte-identical across runs. */
const EPOCH = 1_767_225_600;
const SEED = 0x6d736567;

const LINKTYPE_ETHERNET = 1;
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const TCP = 6;
const UDP = 17;
const ICMPV6 = 58;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;

/** mulberry32: small, seedable, good enough to spread addresses, ports and times. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Template captures: the project's own recordings if present, else the nDPI sample captures. */
export function templateFiles(repoRoot) {
  const own = join(repoRoot, 'packages/dp/test/captures');
  const ndpi = '/work/shared/pcaps/ndpi';
  for (const dir of [own, ndpi]) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => join(dir, f));
    if (files.length > 0) return files;
  }
  throw new Error('no template captures found');
}

/**
 * Parses one template into per-packet descriptors. Only Ethernet frames carrying IPv4 or IPv6
 * are kept (a copied ARP or ND frame would just repeat the same bytes). Returns null for
 * templates on another link type.
 */
function loadTemplate(path, index) {
  const packets = [];
  const ips = new Map(); // address text → { index, bytes }
  const flows = new Map(); // canonical key → flow
  let otherLink = false;
  readCaptureFile(path, (linkType, buf, off, capLen, wireLen, ts) => {
    if (linkType !== LINKTYPE_ETHERNET) {
      otherLink = true;
      return;
    }
    const frame = buf.slice(off, off + capLen);
    let l3 = 14;
    if (capLen < l3) return;
    let etype = (frame[12] << 8) | frame[13];
    if (etype === ETH_VLAN && capLen >= 18) {
      etype = (frame[16] << 8) | frame[17];
      l3 = 18;
    }
    let ver;
    let proto;
    let srcOff;
    let addrLen;
    let l4 = -1;
    if (etype === ETH_IPV4 && capLen >= l3 + 20) {
      ver = 4;
      proto = frame[l3 + 9];
      srcOff = l3 + 12;
      addrLen = 4;
      const firstFragment = (((frame[l3 + 6] << 8) | frame[l3 + 7]) & 0x1fff) === 0;
      if (firstFragment) l4 = l3 + ((frame[l3] & 0x0f) << 2);
    } else if (etype === ETH_IPV6 && capLen >= l3 + 40) {
      ver = 6;
      proto = frame[l3 + 6];
      srcOff = l3 + 8;
      addrLen = 16;
      // Extension headers are not walked: their transport header is left as it is.
      if (proto === TCP || proto === UDP || proto === ICMPV6) l4 = l3 + 40;
    } else {
      return;
    }
    let sport = 0;
    let dport = 0;
    if (l4 >= 0 && (proto === TCP || proto === UDP)) {
      if (capLen < l4 + (proto === TCP ? 20 : 8)) return;
      sport = (frame[l4] << 8) | frame[l4 + 1];
      dport = (frame[l4 + 2] << 8) | frame[l4 + 3];
    }
    const ipIndex = (o) => {
      const bytes = frame.slice(o, o + addrLen);
      const key = bytes.join('.');
      let e = ips.get(key);
      if (!e) {
        e = { index: ips.size, bytes, client: false, role: '', ordinal: 0 };
        ips.set(key, e);
      }
      return e;
    };
    const src = ipIndex(srcOff);
    const dst = ipIndex(srcOff + addrLen);
    const a = `${src.index}:${sport}`;
    const b = `${dst.index}:${dport}`;
    const key = `${proto}|${a < b ? a : b}|${a < b ? b : a}`;
    let flow = flows.get(key);
    if (!flow) {
      flow = { index: flows.size, proto, first: src, firstPort: sport, other: dst, otherPort: dport, synFrom: null, firstTs: ts, lastTs: ts };
      flows.set(key, flow);
    }
    flow.lastTs = ts;
    if (proto === TCP && l4 >= 0 && (frame[l4 + 13] & (TCP_SYN | TCP_ACK)) === TCP_SYN && flow.synFrom === null) flow.synFrom = src;
    packets.push({ frame, wireLen, ts, ver, l3, l4, proto, srcOff, addrLen, src, dst, sport, dport, flow });
  });
  if (otherLink || packets.length === 0) return null;

  // The client of a flow is the SYN sender; without a handshake, the side on the higher port
  // (an ephemeral port facing a service port), else whoever spoke first.
  for (const f of flows.values()) {
    let clientIsFirst;
    if (f.synFrom) clientIsFirst = f.synFrom === f.first;
    else if (f.firstPort !== f.otherPort) clientIsFirst = f.firstPort > f.otherPort;
    else clientIsFirst = true;
    f.client = clientIsFirst ? f.first : f.other;
    f.server = clientIsFirst ? f.other : f.first;
    f.clientPort = clientIsFirst ? f.firstPort : f.otherPort;
  }
  // An address keeps the role of the first flow it appears in (an FTP server opening an
  // active-mode data connection stays a server); clients and servers are numbered separately.
  const counts = { client: 0, server: 0 };
  for (const f of flows.values()) {
    for (const [ip, role] of [[f.client, 'client'], [f.server, 'server']]) {
      if (ip.role !== '') continue;
      ip.role = role;
      ip.client = role === 'client';
      ip.ordinal = counts[role]++;
    }
  }
  // Client ports are numbered per client address so each copy can give them fresh values.
  const clientPorts = new Map();
  for (const f of flows.values()) {
    const k = `${f.client.index}:${f.clientPort}`;
    if (!clientPorts.has(k)) clientPorts.set(k, clientPorts.size);
    f.portSlot = clientPorts.get(k) % PORT_SLOTS;
  }
  packets.sort((x, y) => x.ts - y.ts);
  const t0 = packets[0].ts;
  let v6 = 0;
  for (const f of flows.values()) {
    f.firstTs -= t0;
    f.lastTs -= t0;
  }
  for (const p of packets) {
    p.ts -= t0;
    p.fromClient = p.src === p.flow.client && (p.proto !== TCP && p.proto !== UDP ? true : p.sport === p.flow.clientPort);
    if (p.ver === 6) v6++;
  }
  const name = basename(path).replace(/\.[^.]+$/, '');
  return {
    index,
    name,
    // "mysql-v4-13306" → "mysql": the protocol, whatever the address family or port.
    protocol: name.replace(/-v[46](-\d+)?$/, ''),
    ipv6: v6 * 2 > packets.length,
    packets,
    flowCount: flows.size,
    flows: [...flows.values()],
    ips: [...ips.values()],
    clientIps: counts.client,
    duration: packets[packets.length - 1].ts,
  };
}

/** Min-heap of copy cursors ordered by the time of their next packet. */
class CursorHeap {
  items = [];
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(c) {
    const a = this.items;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent].nextTs <= c.nextTs) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = c;
  }
  /** Re-sorts after the top's nextTs grew, or removes the top when it is finished. */
  fixTop(done) {
    const a = this.items;
    let c = a[0];
    if (done) {
      c = a.pop();
      if (a.length === 0) return;
    }
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && a[r].nextTs < a[l].nextTs ? r : l;
      if (a[m].nextTs >= c.nextTs) break;
      a[i] = a[m];
      i = m;
    }
    a[i] = c;
  }
}

/** Buffered pcap writer: frames go into one 4 MiB buffer flushed with writeSync. */
class PcapWriter {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(4 << 20);
    this.pos = 0;
    this.bytes = 0;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0); // µs time stamps, little-endian
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16); // snap length
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.put(h);
  }
  put(bytes) {
    if (this.pos + bytes.length > this.buf.length) this.flush();
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  /** Reserves a record for a frame of capLen bytes and returns the offset of its data. */
  record(ts, capLen, wireLen) {
    if (this.pos + 16 + capLen > this.buf.length) this.flush();
    const sec = Math.floor(ts);
    let usec = Math.round((ts - sec) * 1e6);
    const s = usec === 1e6 ? sec + 1 : sec;
    if (usec === 1e6) usec = 0;
    this.buf.writeUInt32LE(s, this.pos);
    this.buf.writeUInt32LE(usec, this.pos + 4);
    this.buf.writeUInt32LE(capLen, this.pos + 8);
    this.buf.writeUInt32LE(wireLen, this.pos + 12);
    const at = this.pos + 16;
    this.pos = at + capLen;
    return at;
  }
  flush() {
    let o = 0;
    while (o < this.pos) o += writeSync(this.fd, this.buf, o, this.pos - o);
    this.bytes += this.pos;
    this.pos = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
  }
}

/** One's-complement sum of 16-bit words in b[from, to), added to `sum`. */
function onesSum(b, from, to, sum) {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < to) sum += b[i] << 8;
  return sum;
}

function fold(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

function add32(b, o, delta) {
  const v = (((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) + delta) >>> 0;
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** New address bytes for template address `ip` in a copy whose first client host is `slot0`. */
function copyAddress(tpl, ip, slot0, serverIdx) {
  const v6 = ip.bytes.length === 16;
  const out = new Uint8Array(ip.bytes.length);
  if (ip.client) {
    // Host numbers start at 1 so no client takes a subnet's all-zeros address.
    const slot = ((slot0 + ip.ordinal) % CLIENT_HOSTS) + 1;
    // 10.128.0.0/17 and fd00:c1::/64 hold the client hosts.
    if (v6) {
      out.set([0xfd, 0x00, 0x00, 0xc1]);
      out[14] = slot >> 8;
      out[15] = slot & 0xff;
    } else {
      out.set([10, 128 + (slot >> 16), (slot >> 8) & 0xff, slot & 0xff]);
    }
  } else if (v6) {
    // fd00:5e::/48, one /64 per template, one address per server.
    out.set([0xfd, 0x00, 0x00, 0x5e, 0, 0, 0, tpl.index & 0xff]);
    out[14] = ip.ordinal & 0xff;
    out[15] = serverIdx + 1;
  } else {
    out.set([10, 1 + (ip.ordinal & 0x3f), tpl.index & 0xff, serverIdx + 1]);
  }
  return out;
}

/**
 * Writes the rewritten packet `p` of copy `c` into `b` at `o`: new addresses and client port,
 * TCP sequence and acknowledgement numbers (and SACK edges) shifted by the copy's offsets, and
 * fresh IPv4 header and transport checksums.
 */
function rewrite(b, o, p, c) {
  b.set(p.frame, o);
  const capLen = p.frame.length;
  const end = o + capLen;
  b.set(c.addrs[p.src.index], o + p.srcOff);
  b.set(c.addrs[p.dst.index], o + p.srcOff + p.addrLen);
  const l3 = o + p.l3;
  if (p.ver === 4) {
    const ihl = (b[l3] & 0x0f) << 2;
    b[l3 + 10] = 0;
    b[l3 + 11] = 0;
    const ck = ~fold(onesSum(b, l3, l3 + ihl, 0)) & 0xffff;
    b[l3 + 10] = ck >> 8;
    b[l3 + 11] = ck & 0xff;
  }
  if (p.l4 < 0) return;
  const l4 = o + p.l4;
  const flow = p.flow;
  if (p.proto === TCP || p.proto === UDP) {
    const port = c.ports[flow.index];
    const portOff = p.fromClient ? l4 : l4 + 2;
    b[portOff] = port >> 8;
    b[portOff + 1] = port & 0xff;
  }
  if (p.proto === TCP) {
    const fwd = c.seqOff[flow.index * 2 + (p.fromClient ? 0 : 1)];
    const back = c.seqOff[flow.index * 2 + (p.fromClient ? 1 : 0)];
    add32(b, l4 + 4, fwd);
    if (b[l4 + 13] & TCP_ACK) add32(b, l4 + 8, back);
    // SACK blocks acknowledge the other side's sequence space (RFC 2018 section 3).
    const doff = (b[l4 + 12] >> 4) << 2;
    let q = l4 + 20;
    const optEnd = Math.min(l4 + doff, end);
    while (q < optEnd) {
      const kind = b[q];
      if (kind === 0) break;
      if (kind === 1) {
        q++;
        continue;
      }
      if (q + 1 >= optEnd) break;
      const len = b[q + 1];
      if (len < 2 || q + len > optEnd) break;
      if (kind === 5) for (let e = q + 2; e + 4 <= q + len; e += 4) add32(b, e, back);
      q += len;
    }
  }
  // The transport checksum covers the whole segment: recompute it only when all of it was
  // captured (a cut segment's checksum cannot be checked by any reader anyway).
  const segLen = p.ver === 4 ? ((b[l3 + 2] << 8) | b[l3 + 3]) - ((b[l3] & 0x0f) << 2) : (b[l3 + 4] << 8) | b[l3 + 5];
  if (l4 + segLen > end) return;
  const ckOff = p.proto === TCP ? 16 : p.proto === UDP ? 6 : p.proto === ICMPV6 ? 2 : -1;
  if (ckOff < 0 || segLen < ckOff + 2) return;
  // A zero UDP checksum over IPv4 means "none" (RFC 768): keep it that way.
  if (p.proto === UDP && p.ver === 4 && b[l4 + 6] === 0 && b[l4 + 7] === 0) return;
  b[l4 + ckOff] = 0;
  b[l4 + ckOff + 1] = 0;
  const addrs = o + p.srcOff;
  let sum = onesSum(b, addrs, addrs + 2 * p.addrLen, 0) + p.proto + segLen;
  sum = onesSum(b, l4, l4 + segLen, sum);
  let ck = ~fold(sum) & 0xffff;
  if (ck === 0 && p.proto === UDP) ck = 0xffff;
  b[l4 + ckOff] = ck >> 8;
  b[l4 + ckOff + 1] = ck & 0xff;
}

function digestTemplates(files) {
  const h = createHash('sha256');
  h.update(`v${GENERATOR_VERSION}\n`);
  for (const f of files) {
    h.update(basename(f) + '\n');
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** Largest number of flows open at once, and the time-weighted mean, from (start, end) pairs. */
function concurrency(starts, ends, span) {
  starts.sort();
  ends.sort();
  let open = 0;
  let max = 0;
  let j = 0;
  let busy = 0;
  for (let i = 0; i < starts.length; i++) {
    while (j < ends.length && ends[j] < starts[i]) {
      open--;
      j++;
    }
    open++;
    if (open > max) max = open;
  }
  for (let i = 0; i < starts.length; i++) busy += ends[i] - starts[i];
  return { max, mean: Math.round(busy / span) };
}

/**
 * Returns { path, meta } of the benchmark capture, generating it first when it is missing or was
 * made by another generator version or from other templates.
 */
export function ensureCapture(repoRoot, log = () => {}) {
  const files = templateFiles(repoRoot);
  const digest = digestTemplates(files);
  const dir = join(repoRoot, 'bench-data');
  const path = join(dir, 'dp-replay.pcap');
  const metaPath = join(dir, 'dp-replay.json');
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.generatorVersion === GENERATOR_VERSION && meta.templatesDigest === digest) return { path, meta };
  }
  mkdirSync(dir, { recursive: true });
  log(`generating ${path} from ${files.length} templates`);
  // Private temporary names and renames: two benchmark runs at once never see half a file.
  const meta = generate(files, digest, path, `${path}.${process.pid}.tmp`);
  writeFileSync(`${metaPath}.${process.pid}.tmp`, JSON.stringify(meta, null, 2) + '\n');
  renameSync(`${metaPath}.${process.pid}.tmp`, metaPath);
  return { path, meta };
}

function generate(files, digest, path, tmp) {
  const templates = [];
  for (const f of files) {
    const t = loadTemplate(f, templates.length);
    if (t) templates.push(t);
  }
  if (templates.length === 0) throw new Error('no usable (Ethernet, IP) template captures');
  const weights = templates.map((t) => (t.ipv6 ? 1 : V4_WEIGHT));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const rand = rng(SEED);
  const pick = () => {
    let x = rand() * totalWeight;
    for (let i = 0; i < templates.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return templates.length - 1;
  };

  // Draw the sequence of copies first so the arrival rate can spread them over ARRIVAL_SPAN.
  const choice = [];
  let plannedPackets = 0;
  let plannedFlows = 0;
  while (plannedPackets < TARGET_PACKETS || plannedFlows < TARGET_FLOWS) {
    const i = pick();
    choice.push(i);
    plannedPackets += templates[i].packets.length;
    plannedFlows += templates[i].flowCount;
  }
  const rate = choice.length / ARRIVAL_SPAN;
  const flowStarts = new Float64Array(plannedFlows);
  const flowEnds = new Float64Array(plannedFlows);
  let flowCursor = 0;
  const hostCounter = [0, 0];
  const perProtocol = {};
  let v6Flows = 0;

  const w = new PcapWriter(tmp);
  const heap = new CursorHeap();
  let packets = 0;
  let lastTs = EPOCH;
  const emitUntil = (limit) => {
    while (heap.size > 0 && heap.peek().nextTs <= limit) {
      const c = heap.peek();
      const p = c.tpl.packets[c.next];
      const o = w.record(c.nextTs, p.frame.length, p.wireLen);
      rewrite(w.buf, o, p, c);
      packets++;
      lastTs = c.nextTs;
      c.next++;
      const done = c.next === c.tpl.packets.length;
      if (!done) c.nextTs = c.start + c.tpl.packets[c.next].ts * c.scale;
      heap.fixTop(done);
    }
  };

  let start = EPOCH;
  const logRange = Math.log(MAX_COPY_SECONDS / MIN_COPY_SECONDS);
  for (let k = 0; k < choice.length; k++) {
    start += -Math.log(1 - rand()) / rate;
    emitUntil(start);
    const tpl = templates[choice[k]];
    const family = tpl.ipv6 ? 1 : 0;
    const slot0 = hostCounter[family];
    hostCounter[family] += tpl.clientIps;
    const serverIdx = Math.floor(rand() * SERVERS_PER_TEMPLATE);
    const addrs = tpl.ips.map((ip) => copyAddress(tpl, ip, slot0, serverIdx));
    // A client host gets a new block of PORT_SLOTS ports each time round-robin comes back to it,
    // so no (client address, client port) pair repeats within EPHEMERAL_COUNT / PORT_SLOTS rounds.
    const ports = new Uint16Array(tpl.flowCount);
    for (const f of tpl.flows) {
      const round = Math.floor((slot0 + f.client.ordinal) / CLIENT_HOSTS);
      ports[f.index] = EPHEMERAL_BASE + ((round * PORT_SLOTS + f.portSlot) % EPHEMERAL_COUNT);
    }
    const seqOff = new Uint32Array(tpl.flowCount * 2);
    for (let i = 0; i < seqOff.length; i++) seqOff[i] = (rand() * 4294967296) >>> 0;
    const duration = MIN_COPY_SECONDS * Math.exp(rand() * logRange);
    const scale = tpl.duration > 0 ? duration / tpl.duration : 1;
    for (const f of tpl.flows) {
      flowStarts[flowCursor] = start + f.firstTs * scale;
      flowEnds[flowCursor] = start + f.lastTs * scale;
      flowCursor++;
    }
    const pp = (perProtocol[tpl.protocol] ??= { copies: 0, flows: 0, packets: 0 });
    pp.copies++;
    pp.flows += tpl.flowCount;
    pp.packets += tpl.packets.length;
    if (tpl.ipv6) v6Flows += tpl.flowCount;
    heap.push({ tpl, start, scale, addrs, ports, seqOff, next: 0, nextTs: start });
  }
  emitUntil(Infinity);
  w.close();
  renameSync(tmp, path);
  const span = lastTs - EPOCH;
  const conc = concurrency(flowStarts, flowEnds, span);
  return {
    generatorVersion: GENERATOR_VERSION,
    templatesDigest: digest,
    templates: templates.map((t) => t.name),
    packets,
    flows: plannedFlows,
    ipv6Flows: v6Flows,
    copies: choice.length,
    bytes: w.bytes,
    seconds: Number(span.toFixed(3)),
    maxConcurrentFlows: conc.max,
    meanConcurrentFlows: conc.mean,
    perProtocol,
  };
}
