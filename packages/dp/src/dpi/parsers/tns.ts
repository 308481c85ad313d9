/**
 * Oracle Net Transparent Network Substrate (Oracle Net Services reference; packet layout as
 * documented for the TNS protocol and observed on the wire). The 8-byte header is: packet length
 * (2 bytes, or 4 bytes once a version >= 315 session uses large SDUs), packet checksum (0), type,
 * flags, header checksum (0). A session is recognised by a CONNECT carrying a connect descriptor,
 * a CONNECT answered by ACCEPT/REFUSE/REDIRECT/RESEND, or DATA packets in both directions.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { u16be, u32be } from './binread.js';

const HEADER = 8;
/** Packet types. */
const CONNECT = 1;
const ACCEPT = 2;
const REFUSE = 4;
const REDIRECT = 5;
const DATA = 6;
const RESEND = 11;
/** CONNECT: protocol versions in use range from 300 (8i) upwards; 315+ is 12c and later. */
const MIN_VERSION = 300;
const MAX_VERSION = 400;
/** CONNECT "value of one in hardware": 0x0100 written big-endian, checked by the listener. */
const VALUE_OF_ONE = 0x0100;
/** Offsets in the CONNECT packet. */
const CONNECT_MIN = 34;

/** flow.state bits. */
const CONNECTING = 1;
const CLIENT_DATA = 2;
const SERVER_DATA = 4;
/** Payloads (both directions) offered before giving up: mid-stream, the first may continue an earlier message. */
const MID_STREAM_TRIES = 4;

/**
 * Header check: length (16-bit with a zero packet checksum, or 32-bit) equal to the payload, and a
 * zero header checksum. Returns the packet type or -1.
 */
function header(b: Uint8Array, off: number, len: number): number {
  if (len < HEADER || b[off + 6] !== 0 || b[off + 7] !== 0) return -1;
  const short = u16be(b, off) === len && b[off + 2] === 0 && b[off + 3] === 0;
  return short || u32be(b, off) === len ? b[off + 4] : -1;
}

/** CONNECT: version, compatible version, ..., value of one, connect data length and offset. */
function connect(b: Uint8Array, off: number, len: number): Verdict {
  if (len < CONNECT_MIN) return NO_MATCH;
  const version = u16be(b, off + 8);
  const compatible = u16be(b, off + 10);
  if (version < MIN_VERSION || version > MAX_VERSION || compatible > version || compatible < MIN_VERSION) return NO_MATCH;
  if (u16be(b, off + 22) !== VALUE_OF_ONE) return NO_MATCH;
  const dataLen = u16be(b, off + 24);
  const dataAt = u16be(b, off + 26);
  if (dataLen === 0 || dataAt < CONNECT_MIN) return NO_MATCH;
  // Long connect data travels in the following packet; then the listener's answer decides.
  if (dataAt + dataLen > len) return CONTINUE;
  // Connect descriptors are parenthesised keyword=value lists: "(DESCRIPTION=(CONNECT_DATA=...".
  const p = off + dataAt;
  let q = p + 1;
  while (q < p + dataLen && ((b[q] >= 0x41 && b[q] <= 0x5a) || (b[q] >= 0x61 && b[q] <= 0x7a) || b[q] === 0x5f)) q++;
  return b[p] === 0x28 && q > p + 1 && q < p + dataLen && b[q] === 0x3d ? MATCH : NO_MATCH;
}

const parser = {
  app: App.TNS,
  name: 'tns',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = (flow.state[this.slot] as number | undefined) ?? 0;
    const type = header(b, off, len);
    if (st & CONNECTING) {
      if (fromClient) return CONTINUE;
      return type === ACCEPT || type === REFUSE || type === REDIRECT || type === RESEND ? MATCH : NO_MATCH;
    }
    if (fromClient && type === CONNECT) {
      const v = connect(b, off, len);
      if (v === CONTINUE) flow.state[this.slot] = st | CONNECTING;
      return v;
    }
    if (type === DATA && len >= HEADER + 2) {
      const seen = st | (fromClient ? CLIENT_DATA : SERVER_DATA);
      flow.state[this.slot] = seen;
      return seen === (CLIENT_DATA | SERVER_DATA) ? MATCH : CONTINUE;
    }
    return flow.clientPackets + flow.serverPackets < MID_STREAM_TRIES ? CONTINUE : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
