/**
 * One reusable, numeric description of a decoded frame. The decoder fills it in place for every
 * frame (no allocation per packet); consumers read what they need before the next frame.
 *
 * Addresses are four big-endian 32-bit words. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that
 * the session key, hashing and CIDR matching treat both families alike.
 */
export class Packet {
  /** Capture time in seconds (fractional). */
  ts = 0;
  /** Interface the frame arrived on (live capture), 0 for files. */
  ifindex = 0;
  /** Frame length on the wire as the kernel saw it, which may exceed what was captured. */
  wireLen = 0;
  /** Bytes of the frame held in `buf` from `frameOff`. */
  capLen = 0;
  buf: Uint8Array = new Uint8Array(0);
  frameOff = 0;

  srcMacHi = 0;
  srcMacLo = 0;
  dstMacHi = 0;
  dstMacLo = 0;
  vlan = 0;
  /** True when the frame was VXLAN and what follows is the inner frame. */
  tunnelled = false;

  /** 4 or 6. */
  ipVersion = 0;
  l3Off = 0;
  /** Length of the IP packet from its own header (total length / payload length + 40). */
  ipLen = 0;
  ttl = 0;
  /** IP protocol of the transport header (after IPv6 extension headers). */
  proto = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);

  /** Fragmentation: offset in bytes, more-fragments flag, identification. */
  fragOffset = 0;
  moreFragments = false;
  fragId = 0;
  /** Non-first fragment: no transport header in this frame. */
  isFragment = false;

  l4Off = 0;
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  icmpType = 0;
  icmpCode = 0;

  /** Transport payload: buf[payloadOff .. payloadOff + payloadLen), clipped to what was captured. */
  payloadOff = 0;
  payloadLen = 0;
  /** Payload length the IP header announces (may exceed payloadLen when the capture was cut). */
  payloadWireLen = 0;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** Why a frame was dropped as malformed (index into `MALFORMED_REASONS`). */
export const Malformed = {
  none: 0,
  truncatedLink: 1,
  truncatedIp: 2,
  badIpVersion: 3,
  badIpHeader: 4,
  truncatedL4: 5,
  badL4Header: 6,
  badExtHeader: 7,
  unsupportedLink: 8,
} as const;

export const MALFORMED_REASONS = [
  'none',
  'truncated link header',
  'truncated IP header',
  'bad IP version',
  'bad IP header',
  'truncated transport header',
  'bad transport header',
  'bad IPv6 extension header',
  'unsupported link type',
] as const;

/** Result of decoding a frame that is well-formed but carries nothing for the session table (ARP, LLDP…). */
export const NOT_IP = -1;
