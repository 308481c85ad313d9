/**
 * Detections that need no application parsing: fragment attacks, floods and TCP handshake
 * anomalies. Called for every decoded packet, so the common case (not a fragment, not a SYN, not
 * an ICMP echo) returns after a few comparisons; state is bounded maps reset every second.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, TCP_ACK, TCP_SYN, type Packet } from '../decode/packet.js';
import { Threat } from './catalog.js';

export interface FloodThresholds {
  /** SYNs without ACK per second towards one server address and port. */
  synPerSecond: number;
  /** ICMP echo requests per second towards one address. */
  icmpPerSecond: number;
}

export type PacketThreatSink = (id: number, p: Packet, detail: string) => void;

const MAX_FRAG_DATAGRAMS = 4096;
/** Fragments of one datagram kept for overlap checks; more is itself suspicious but not tracked. */
const MAX_FRAGS_PER_DATAGRAM = 64;
const FRAG_TTL = 30;
const TCP_OPT_FAST_OPEN = 34;

interface FragDatagram {
  ts: number;
  ranges: number[];
}

function mix(p: Packet, withPort: boolean): number {
  const d = p.dst;
  let h = Math.imul(d[0] ^ d[1], 0x9e3779b1);
  h = Math.imul(h ^ d[2], 0x85ebca6b);
  h = Math.imul(h ^ d[3], 0xc2b2ae35);
  if (withPort) h = Math.imul(h ^ p.dport, 0x27d4eb2f);
  return (h ^ p.ifindex) >>> 0;
}

export class PacketThreatDetector {
  private readonly frags = new Map<string, FragDatagram>();
  private readonly syn = new Map<number, number>();
  private readonly icmp = new Map<number, number>();
  private second = -1;

  constructor(
    private readonly sink: PacketThreatSink,
    private readonly limits: FloodThresholds = { synPerSecond: 2000, icmpPerSecond: 2000 },
  ) {}

  inspect(p: Packet): void {
    const sec = Math.floor(p.ts);
    if (sec !== this.second) {
      this.second = sec;
      this.syn.clear();
      this.icmp.clear();
    }
    if (p.fragOffset !== 0 || p.moreFragments) this.fragment(p);
    if (p.isFragment) return;
    if (p.proto === IPPROTO_TCP) {
      if ((p.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
        const k = mix(p, true);
        const n = (this.syn.get(k) ?? 0) + 1;
        this.syn.set(k, n);
        if (n === this.limits.synPerSecond + 1) this.sink(Threat.TCP_SYN_FLOOD, p, `more than ${this.limits.synPerSecond} SYN/s to one server port`);
        if (p.payloadWireLen > 0 && !this.hasFastOpen(p)) this.sink(Threat.TCP_SYN_DATA, p, `SYN carries ${p.payloadWireLen} bytes`);
      }
    } else if ((p.proto === IPPROTO_ICMP && p.icmpType === 8) || (p.proto === IPPROTO_ICMPV6 && p.icmpType === 128)) {
      const k = mix(p, false);
      const n = (this.icmp.get(k) ?? 0) + 1;
      this.icmp.set(k, n);
      if (n === this.limits.icmpPerSecond + 1) this.sink(Threat.ICMP_FLOOD, p, `more than ${this.limits.icmpPerSecond} echo requests/s to one address`);
    }
  }

  /** TCP Fast Open (RFC 7413) legitimately puts data in a SYN; look for its option. */
  private hasFastOpen(p: Packet): boolean {
    const b = p.buf;
    let o = p.l4Off + 20;
    const end = p.payloadOff;
    while (o < end) {
      const kind = b[o];
      if (kind === 0) break;
      if (kind === 1) {
        o++;
        continue;
      }
      if (o + 1 >= end) break;
      if (kind === TCP_OPT_FAST_OPEN) return true;
      const len = b[o + 1];
      if (len < 2) break;
      o += len;
    }
    return false;
  }

  private fragment(p: Packet): void {
    const ipPayload = p.ipLen - (p.l4Off - p.l3Off);
    const start = p.fragOffset;
    const end = start + (ipPayload > 0 ? ipPayload : 0);
    // RFC 791: the reassembled datagram may not exceed 65,535 bytes; an ICMP one that does is the
    // classic ping of death.
    const headerLen = p.l4Off - p.l3Off;
    if (end + headerLen > 65535 && (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6)) {
      this.sink(Threat.PING_OF_DEATH, p, `fragment ends at ${end + headerLen} bytes`);
    }
    const s = p.src;
    const d = p.dst;
    const key = `${s[0]},${s[1]},${s[2]},${s[3]}>${d[0]},${d[1]},${d[2]},${d[3]}/${p.proto}#${p.fragId}`;
    let dg = this.frags.get(key);
    if (!dg || p.ts - dg.ts > FRAG_TTL) {
      if (!dg && this.frags.size >= MAX_FRAG_DATAGRAMS) this.evictOld(p.ts);
      dg = { ts: p.ts, ranges: [] };
      this.frags.set(key, dg);
    }
    const r = dg.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (start < r[i + 1] && r[i] < end && !(start === r[i] && end === r[i + 1])) {
        this.sink(Threat.IP_TEARDROP, p, `fragment ${start}-${end} overlaps ${r[i]}-${r[i + 1]}`);
        break;
      }
    }
    if (r.length < MAX_FRAGS_PER_DATAGRAM * 2) r.push(start, end);
    if (!p.moreFragments && r.length >= 2 && r[0] === 0) this.frags.delete(key);
  }

  private evictOld(now: number): void {
    for (const [k, v] of this.frags) if (now - v.ts > FRAG_TTL) this.frags.delete(k);
    if (this.frags.size >= MAX_FRAG_DATAGRAMS) {
      const first = this.frags.keys().next().value;
      if (first !== undefined) this.frags.delete(first);
    }
  }
}
