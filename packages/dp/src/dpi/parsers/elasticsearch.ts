/**
 * Elasticsearch transport protocol (Elasticsearch reference "Transport"; header layout as observed
 * on the wire). Each message starts with the marker
 * bytes 'E','S', an int32 size of what follows, int64 request id, a status byte, an int32 version id
 * and, from 7.6.0 on, an int32 variable-header size. A ping is 'E','S' followed by size -1.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { u32be } from './binread.js';

const PING_SIZE = 0xffffffff;
/** request id (8) + status (1) + version (4). */
const MIN_SIZE = 13;
/** Status bits: response 0x01, error 0x02, compressed 0x04, handshake 0x08. */
const STATUS_MASK = 0x0f;
/** Version ids are major*1,000,000 + minor*10,000 + revision*100 + build (5.0.0 = 5000099). */
const MIN_VERSION = 5_000_000;
const MAX_VERSION = 100_000_000;
/** 7.6.0, the first version whose header carries the variable-header size. */
const VARIABLE_HEADER_SINCE = 7_060_000;
/** Transport messages are bounded well below this while classifying. */
const MAX_SIZE = 1 << 30;
/** Payloads (both directions) offered before giving up: mid-stream, the first may continue an earlier message. */
const MID_STREAM_TRIES = 4;

/** A message header at the start of the payload; whole or split over segments. */
function header(b: Uint8Array, off: number, len: number): boolean {
  if (len < 6 + MIN_SIZE || b[off] !== 0x45 || b[off + 1] !== 0x53) return false;
  const size = u32be(b, off + 2);
  if (size < MIN_SIZE || size > MAX_SIZE) return false;
  // A payload longer than the message holds the next one, which starts with the marker again.
  const next = off + 6 + size;
  if (next < off + len && (b[next] !== 0x45 || (next + 1 < off + len && b[next + 1] !== 0x53))) return false;
  if ((b[off + 14] & ~STATUS_MASK) !== 0) return false;
  const version = u32be(b, off + 15);
  if (version < MIN_VERSION || version >= MAX_VERSION) return false;
  if (version >= VARIABLE_HEADER_SINCE) {
    if (size < MIN_SIZE + 4 || len < 6 + MIN_SIZE + 4 || u32be(b, off + 19) > size - MIN_SIZE - 4) return false;
  }
  return true;
}

const parser = {
  app: App.Elasticsearch,
  name: 'elasticsearch',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number): Verdict {
    if (header(b, off, len)) return MATCH;
    // A ping says nothing about the peer; otherwise the payload may continue an earlier message.
    if (len === 6 && b[off] === 0x45 && b[off + 1] === 0x53 && u32be(b, off + 2) === PING_SIZE) return CONTINUE;
    return flow.clientPackets + flow.serverPackets < MID_STREAM_TRIES ? CONTINUE : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
