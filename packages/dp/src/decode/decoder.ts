/**
 * Frame decoder: link layer → IP → transport, filling a caller-supplied Packet. Each header's
 * length is checked once before its fields are read; a malformed frame returns a Malformed reason
 * (> 0) and is never thrown. Network byte order is read by hand from the byte array, which keeps
 * the hot path free of DataView construction per frame.
 */
import { LinkType } from './linktype.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, Malformed, NOT_IP, Packet } from './packet.js';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_VLAN_9100 = 0x9100;
const ETH_PPPOE_SESSION = 0x8864;
const ETH_MPLS = 0x8847;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const VXLAN_PORT = 4789;
const IPPROTO_IPV4_IN_IP = 4;
const IPPROTO_IPV6_IN_IP = 41;
/** VXLAN inside VXLAN is legal but pointless; stop after one level so a crafted frame can't loop. */
const MAX_TUNNEL_DEPTH = 1;

export function decodeFrame(linkType: number, buf: Uint8Array, off: number, capLen: number, p: Packet): number {
  p.buf = buf;
  p.frameOff = off;
  p.capLen = capLen;
  p.tunnelled = false;
  p.vlan = 0;
  p.srcMacHi = p.srcMacLo = p.dstMacHi = p.dstMacLo = 0;
  const end = off + capLen;
  switch (linkType) {
    case LinkType.ETHERNET:
      return decodeEthernet(buf, off, end, p, 0);
    case LinkType.RAW:
    case LinkType.RAW_ALT12:
    case LinkType.RAW_ALT14:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return decodeIp(buf, off, end, p, 0);
    case LinkType.LINUX_SLL: {
      // 16-byte header: packet type, ARPHRD, addr len, 8 addr bytes, protocol.
      if (capLen < 16) return Malformed.truncatedLink;
      const etype = (buf[off + 14] << 8) | buf[off + 15];
      return decodeEtherType(etype, buf, off + 16, end, p, 0);
    }
    case LinkType.LINUX_SLL2: {
      // 20-byte header starting with the protocol type; carries the ifindex too.
      if (capLen < 20) return Malformed.truncatedLink;
      const etype = (buf[off] << 8) | buf[off + 1];
      return decodeEtherType(etype, buf, off + 20, end, p, 0);
    }
    case LinkType.NULL: {
      if (capLen < 4) return Malformed.truncatedLink;
      return decodeIp(buf, off + 4, end, p, 0);
    }
    default:
      return Malformed.unsupportedLink;
  }
}

function decodeEthernet(buf: Uint8Array, off: number, end: number, p: Packet, depth: number): number {
  if (end - off < 14) return Malformed.truncatedLink;
  p.dstMacHi = (buf[off] << 8) | buf[off + 1];
  p.dstMacLo = ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0;
  p.srcMacHi = (buf[off + 6] << 8) | buf[off + 7];
  p.srcMacLo = ((buf[off + 8] << 24) | (buf[off + 9] << 16) | (buf[off + 10] << 8) | buf[off + 11]) >>> 0;
  const etype = (buf[off + 12] << 8) | buf[off + 13];
  return decodeEtherType(etype, buf, off + 14, end, p, depth);
}

function decodeEtherType(etype: number, buf: Uint8Array, off: number, end: number, p: Packet, depth: number): number {
  // 802.1Q / QinQ: at most two tags in practice; allow four before calling it malformed.
  for (let tags = 0; etype === ETH_VLAN || etype === ETH_QINQ || etype === ETH_VLAN_9100; tags++) {
    if (tags === 4 || end - off < 4) return Malformed.truncatedLink;
    if (tags === 0) p.vlan = ((buf[off] << 8) | buf[off + 1]) & 0x0fff;
    etype = (buf[off + 2] << 8) | buf[off + 3];
    off += 4;
  }
  if (etype === ETH_IPV4 || etype === ETH_IPV6) return decodeIp(buf, off, end, p, depth);
  if (etype === ETH_PPPOE_SESSION) {
    // RFC 2516 §5: 6-byte PPPoE header, then the 2-byte PPP protocol field.
    if (end - off < 8) return Malformed.truncatedLink;
    const ppp = (buf[off + 6] << 8) | buf[off + 7];
    return ppp === PPP_IPV4 || ppp === PPP_IPV6 ? decodeIp(buf, off + 8, end, p, depth) : NOT_IP;
  }
  if (etype === ETH_MPLS) {
    // RFC 3032: 4-byte labels until the bottom-of-stack bit; the payload's version nibble tells IPv4/6.
    for (let labels = 0; ; labels++) {
      if (labels === 8 || end - off < 4) return Malformed.truncatedLink;
      const bottom = (buf[off + 2] & 1) !== 0;
      off += 4;
      if (bottom) break;
    }
    return decodeIp(buf, off, end, p, depth);
  }
  return NOT_IP;
}

function decodeIp(buf: Uint8Array, off: number, end: number, p: Packet, depth: number): number {
  if (end - off < 1) return Malformed.truncatedIp;
  const v = buf[off] >> 4;
  if (v === 4) return decodeIpv4(buf, off, end, p, depth);
  if (v === 6) return decodeIpv6(buf, off, end, p, depth);
  return Malformed.badIpVersion;
}

function decodeIpv4(buf: Uint8Array, off: number, end: number, p: Packet, depth: number): number {
  if (end - off < 20) return Malformed.truncatedIp;
  const ihl = (buf[off] & 0x0f) << 2;
  const total = (buf[off + 2] << 8) | buf[off + 3];
  if (ihl < 20 || total < ihl) return Malformed.badIpHeader;
  if (end - off < ihl) return Malformed.truncatedIp;
  p.ipVersion = 4;
  p.l3Off = off;
  p.ipLen = total;
  p.ttl = buf[off + 8];
  p.proto = buf[off + 9];
  const src = p.src;
  const dst = p.dst;
  src[0] = 0;
  src[1] = 0;
  src[2] = 0xffff;
  src[3] = ((buf[off + 12] << 24) | (buf[off + 13] << 16) | (buf[off + 14] << 8) | buf[off + 15]) >>> 0;
  dst[0] = 0;
  dst[1] = 0;
  dst[2] = 0xffff;
  dst[3] = ((buf[off + 16] << 24) | (buf[off + 17] << 16) | (buf[off + 18] << 8) | buf[off + 19]) >>> 0;
  const frag = (buf[off + 6] << 8) | buf[off + 7];
  p.fragId = (buf[off + 4] << 8) | buf[off + 5];
  p.fragOffset = (frag & 0x1fff) << 3;
  p.moreFragments = (frag & 0x2000) !== 0;
  // The IP header's length rules over the captured length (GSO super-frames, Ethernet padding).
  let l3End = off + total;
  if (total === 0) l3End = end; // TSO frames handed up before segmentation may carry 0
  const payloadWire = (total === 0 ? end - off : total) - ihl;
  if (l3End > end) l3End = end;
  return decodeL4(buf, off + ihl, l3End, payloadWire, p, depth);
}

function decodeIpv6(buf: Uint8Array, off: number, end: number, p: Packet, depth: number): number {
  if (end - off < 40) return Malformed.truncatedIp;
  const plen = (buf[off + 4] << 8) | buf[off + 5];
  p.ipVersion = 6;
  p.l3Off = off;
  p.ipLen = plen + 40;
  p.ttl = buf[off + 7];
  const src = p.src;
  const dst = p.dst;
  for (let i = 0; i < 4; i++) {
    const o = off + 8 + i * 4;
    src[i] = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
    const d = o + 16;
    dst[i] = ((buf[d] << 24) | (buf[d + 1] << 16) | (buf[d + 2] << 8) | buf[d + 3]) >>> 0;
  }
  p.fragOffset = 0;
  p.moreFragments = false;
  p.fragId = 0;
  let next = buf[off + 6];
  let cur = off + 40;
  let l3End = plen === 0 ? end : off + 40 + plen; // jumbogram or TSO: trust the capture
  if (l3End > end) l3End = end;
  let payloadWire = plen === 0 ? end - cur : plen;
  // Extension headers: hop-by-hop 0, routing 43, fragment 44, destination 60, AH 51, mobility 135.
  for (let n = 0; n < 16; n++) {
    if (next === 0 || next === 43 || next === 60 || next === 135) {
      if (l3End - cur < 8) return Malformed.badExtHeader;
      const hlen = (buf[cur + 1] + 1) << 3;
      if (l3End - cur < hlen) return Malformed.badExtHeader;
      next = buf[cur];
      cur += hlen;
      payloadWire -= hlen;
    } else if (next === 44) {
      if (l3End - cur < 8) return Malformed.badExtHeader;
      const fo = (buf[cur + 2] << 8) | buf[cur + 3];
      p.fragOffset = fo & 0xfff8;
      p.moreFragments = (fo & 1) !== 0;
      p.fragId = ((buf[cur + 4] << 24) | (buf[cur + 5] << 16) | (buf[cur + 6] << 8) | buf[cur + 7]) >>> 0;
      next = buf[cur];
      cur += 8;
      payloadWire -= 8;
    } else if (next === 51) {
      if (l3End - cur < 8) return Malformed.badExtHeader;
      const hlen = (buf[cur + 1] + 2) << 2;
      if (l3End - cur < hlen) return Malformed.badExtHeader;
      next = buf[cur];
      cur += hlen;
      payloadWire -= hlen;
    } else {
      break;
    }
  }
  if (payloadWire < 0) return Malformed.badExtHeader;
  p.proto = next;
  return decodeL4(buf, cur, l3End, payloadWire, p, depth);
}

function decodeL4(buf: Uint8Array, off: number, end: number, payloadWire: number, p: Packet, depth: number): number {
  p.l4Off = off;
  p.tcpFlags = 0;
  p.seq = 0;
  p.ack = 0;
  p.icmpType = 0;
  p.icmpCode = 0;
  p.sport = 0;
  p.dport = 0;
  if (p.fragOffset !== 0) {
    // A non-first fragment: no transport header here; the session layer only counts it.
    p.isFragment = true;
    p.payloadOff = off;
    p.payloadLen = end > off ? end - off : 0;
    p.payloadWireLen = payloadWire;
    return 0;
  }
  p.isFragment = false;
  const avail = end - off;
  if ((p.proto === IPPROTO_IPV4_IN_IP || p.proto === IPPROTO_IPV6_IN_IP) && depth < MAX_TUNNEL_DEPTH && avail > 0) {
    // IP-in-IP and 6in4 (RFC 2003, RFC 4213): the inner packet is the conversation.
    const r = decodeIp(buf, off, end, p, depth + 1);
    if (r === 0) p.tunnelled = true;
    return r;
  }
  switch (p.proto) {
    case IPPROTO_TCP: {
      if (avail < 20) return Malformed.truncatedL4;
      const doff = (buf[off + 12] >> 4) << 2;
      if (doff < 20) return Malformed.badL4Header;
      if (avail < doff) return Malformed.truncatedL4;
      p.sport = (buf[off] << 8) | buf[off + 1];
      p.dport = (buf[off + 2] << 8) | buf[off + 3];
      p.seq = ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
      p.ack = ((buf[off + 8] << 24) | (buf[off + 9] << 16) | (buf[off + 10] << 8) | buf[off + 11]) >>> 0;
      p.tcpFlags = buf[off + 13];
      p.payloadOff = off + doff;
      p.payloadLen = avail - doff;
      p.payloadWireLen = payloadWire - doff > 0 ? payloadWire - doff : 0;
      return 0;
    }
    case IPPROTO_UDP: {
      if (avail < 8) return Malformed.truncatedL4;
      p.sport = (buf[off] << 8) | buf[off + 1];
      p.dport = (buf[off + 2] << 8) | buf[off + 3];
      const ulen = (buf[off + 4] << 8) | buf[off + 5];
      // ulen 0 is legal for IPv6 jumbograms and GSO; otherwise it must cover the header.
      if (ulen !== 0 && ulen < 8) return Malformed.badL4Header;
      let plen = avail - 8;
      if (ulen !== 0 && ulen - 8 < plen) plen = ulen - 8;
      p.payloadOff = off + 8;
      p.payloadLen = plen;
      p.payloadWireLen = ulen !== 0 ? ulen - 8 : payloadWire - 8;
      if (depth < MAX_TUNNEL_DEPTH && p.dport === VXLAN_PORT && plen >= 8 + 14 && (buf[off + 8] & 0x08) !== 0) {
        const inner = off + 16;
        const saveTs = p.ts;
        const r = decodeEthernet(buf, inner, off + 8 + plen, p, depth + 1);
        p.ts = saveTs;
        if (r === 0) p.tunnelled = true;
        return r;
      }
      return 0;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (avail < 4) return Malformed.truncatedL4;
      p.icmpType = buf[off];
      p.icmpCode = buf[off + 1];
      // Echo id serves as the "port" so concurrent pings are separate sessions.
      if (avail >= 8) p.sport = p.dport = (buf[off + 4] << 8) | buf[off + 5];
      p.payloadOff = off + 8 <= end ? off + 8 : end;
      p.payloadLen = end - p.payloadOff;
      p.payloadWireLen = payloadWire > 8 ? payloadWire - 8 : 0;
      return 0;
    }
    default:
      p.payloadOff = off;
      p.payloadLen = avail > 0 ? avail : 0;
      p.payloadWireLen = payloadWire;
      return 0;
  }
}
