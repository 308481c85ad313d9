/**
 * Apache Cassandra: the CQL native protocol (native_protocol_v4.spec / v5.spec, section 2 "Frame
 * header") and the internode messaging handshake (port 7000). A native session is recognised by a
 * request frame answered by a response frame on the same stream, or by a whole STARTUP request
 * naming CQL_VERSION; an internode connection by the protocol magic that opens it.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { i16be, equalsUpper, isPrintable, u16be, u32be } from './binread.js';

/** Internode messaging: every connection starts with the 32-bit PROTOCOL_MAGIC 0xCA552DFA. */
const INTERNODE_MAGIC = 0xca552dfa;
/** Messaging version numbers are small (10 = 3.0, 12 = 4.0, 13 = 5.0). */
const MAX_MESSAGING_VERSION = 64;

/** "Frame header": version 0x01..0x05 for requests, 0x80 | version for responses. */
const MAX_VERSION = 5;
const RESPONSE = 0x80;
/** "flags": compression 0x01, tracing 0x02, custom payload 0x04, warning 0x08, beta 0x10. */
const FLAG_MASK = 0x1f;
/** "length": frames are limited to 256 MB. */
const MAX_BODY = 256 * 1024 * 1024;

/** "Messages" opcodes: requests, and the responses to them (EVENT is unsolicited, not an answer). */
const OP_STARTUP = 0x01;
const REQUESTS: readonly number[] = [0x01, 0x04, 0x05, 0x07, 0x09, 0x0a, 0x0b, 0x0d, 0x0f];
const RESPONSES: readonly number[] = [0x00, 0x02, 0x03, 0x06, 0x08, 0x0e, 0x10];
const OP_ERROR = 0x00;

/** flow.state: PENDING + (version << 16 | stream) of a request waiting for its response. */
const PENDING = 2 ** 24;

/**
 * Internode handshake, as captured from Cassandra 4.x: magic, then a 32-bit word carrying the
 * maximum, minimum and requested messaging versions in its three high bytes (3.x sends only the
 * version, in the second-lowest byte) and flags in the low byte.
 */
function internode(b: Uint8Array, off: number, len: number): boolean {
  if (len < 8 || u32be(b, off) !== INTERNODE_MAGIC) return false;
  const max = b[off + 4];
  const min = b[off + 5];
  const req = b[off + 6];
  if (req === 0 || req > MAX_MESSAGING_VERSION) return false;
  return (max === 0 && min === 0) || (min <= req && req <= max);
}

/** Header size for a version: v1/v2 use a one-byte stream id, v3+ a two-byte one. */
function headerSize(version: number): number {
  return version >= 3 ? 9 : 8;
}

/** "STARTUP": [string map] whose keys include CQL_VERSION. */
function startupBody(b: Uint8Array, p: number, end: number): boolean {
  if (p + 2 > end) return false;
  const pairs = u16be(b, p);
  let q = p + 2;
  let cql = false;
  for (let i = 0; i < pairs * 2; i++) {
    if (q + 2 > end) return false;
    const n = u16be(b, q);
    if (n === 0 || q + 2 + n > end || !isPrintable(b, q + 2, n)) return false;
    if (i % 2 === 0 && equalsUpper(b, q + 2, n, 'CQL_VERSION')) cql = true;
    q += 2 + n;
  }
  return cql && q === end;
}

const parser = {
  app: App.Cassandra,
  name: 'cassandra',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    if (len < 8) return NO_MATCH;
    const first = b[off];
    if (fromClient && first === 0xca) {
      return flow.clientPackets === 1 && flow.serverPackets === 0 && internode(b, off, len) ? MATCH : NO_MATCH;
    }
    const version = first & 0x7f;
    if (version < 1 || version > MAX_VERSION || (b[off + 1] & ~FLAG_MASK) !== 0) return NO_MATCH;
    if ((first & RESPONSE) !== (fromClient ? 0 : RESPONSE)) return NO_MATCH;
    const h = headerSize(version);
    if (len < h) return NO_MATCH;
    const stream = h === 9 ? i16be(b, off + 2) : b[off + 2];
    const op = b[off + h - 5];
    const body = u32be(b, off + h - 4);
    if (body > MAX_BODY) return NO_MATCH;
    if (fromClient) {
      if (stream < 0 || !REQUESTS.includes(op)) return NO_MATCH;
      if (op === OP_STARTUP && h + body === len && startupBody(b, off + h, off + len)) return MATCH;
      flow.state[this.slot] = PENDING + ((version << 16) | (stream & 0xffff));
      return CONTINUE;
    }
    if (!RESPONSES.includes(op)) return NO_MATCH;
    const pending = flow.state[this.slot] as number | undefined;
    if (pending === undefined) return CONTINUE;
    const want = pending - PENDING;
    // An ERROR may come back in the server's own version when it refuses the client's.
    const sameVersion = want >>> 16 === version || op === OP_ERROR;
    return sameVersion && (want & 0xffff) === (stream & 0xffff) ? MATCH : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
