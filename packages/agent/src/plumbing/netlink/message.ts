/**
 * Netlink messages as bytes (linux/netlink.h): the 16-byte header, a fixed family header, then
 * attributes (length, type, payload, padded to 4 bytes; nested ones hold attributes). Host byte
 * order is little-endian on every machine the agent runs on (x86-64, arm64).
 */

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** On an NLMSG_ERROR: TLVs (the kernel's reason text) follow the echoed header. */
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
/** Attribute type bits that are flags, not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
const NLA_TYPE_MASK = 0x3fff;

const HEADER = 16;

const align = (n: number): number => (n + 3) & ~3;

/** One attribute: `payload` padded to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(align(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  b.set(payload, 4);
  return b;
}

export function nest(type: number, ...attrs: Buffer[]): Buffer {
  return attr(type, Buffer.concat(attrs));
}

/** A string attribute; `nul` false for the few the kernel takes unterminated (as iproute2 sends kinds). */
export function str(type: number, s: string, nul = true): Buffer {
  return attr(type, Buffer.from(nul ? `${s}\0` : s));
}

export function u8(type: number, v: number): Buffer {
  return attr(type, Buffer.of(v));
}

export function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}

/** A whole message; the sequence number is set by the exchange (see transport.ts). */
export function message(type: number, flags: number, family: Buffer, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat([family, ...attrs]);
  const b = Buffer.alloc(HEADER + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.set(body, HEADER);
  return b;
}

export function setSeq(msg: Buffer, seq: number): void {
  msg.writeUInt32LE(seq >>> 0, 8);
}

export interface Message {
  type: number;
  flags: number;
  seq: number;
  /** What follows the header: family header and attributes. */
  body: Buffer;
}

export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  for (let off = 0; off + HEADER <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    if (len < HEADER || off + len > buf.length) throw new Error(`netlink: truncated message at byte ${off}`);
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), body: buf.subarray(off + HEADER, off + len) });
    off += align(len);
  }
  return out;
}

/** Attributes from `offset` on (past the family header), by type; payloads without their header. */
export function parseAttrs(buf: Buffer, offset = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = offset; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align(len);
  }
  return out;
}

/** A string attribute's text (up to its NUL). */
export function text(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

export interface Ack {
  /** 0, or the negative errno the kernel refused the request with. */
  error: number;
  /** The kernel's reason text (extended ack), when it gave one. */
  reason: string;
}

/** An NLMSG_ERROR message: its errno and reason. The socket caps acks, so only the request's header is echoed. */
export function parseAck(m: Message): Ack {
  const error = m.body.readInt32LE(0);
  const tlvs = m.flags & NLM_F_ACK_TLVS ? parseAttrs(m.body, 4 + HEADER) : new Map<number, Buffer>();
  return { error, reason: text(tlvs.get(NLMSGERR_ATTR_MSG)) ?? '' };
}
