/**
 * Syslog over UDP (RFC 5426) and TCP (RFC 6587). Every message starts with "<PRI>", PRI being
 * facility × 8 + severity in 0..191 (RFC 5424 §6.2.1), followed by an RFC 5424 header ("1 "),
 * an RFC 3164 header or, from many devices, free text; all of it is text. Which side sends is
 * not checked: syslog is one-way, and without a handshake the engine can only guess the client
 * (a relay sending from port 514 looks like the server).
 */
import { App } from '../apps.js';
import { MATCH, NO_MATCH, TCP, UDP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';

/** RFC 5424 §6.2.1: PRIVAL is at most 191 (facility 23, severity 7). */
const MAX_PRI = 191;
/** Text checked after PRI: enough to judge, bounded so a long message costs no more. */
const SCAN = 96;
/** Shortest content after PRI that is a message rather than a coincidence. */
const MIN_CONTENT = 4;
/** RFC 6587 §3.4.1 octet counting: MSG-LEN is a NONZERO-DIGIT then up to 8 more digits here. */
const MAX_COUNT_DIGITS = 9;

const LT = 0x3c;
const GT = 0x3e;
const SP = 0x20;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Text as syslog senders write it: printable ASCII, tab, CR, LF and UTF-8 octets (RFC 5424
 * §6.4 MSG may be UTF-8); a NUL only as the terminator some RFC 3164 senders append.
 */
function isText(b: Uint8Array, p: number, end: number): boolean {
  for (let i = p; i < end; i++) {
    const c = b[i];
    if (c >= 0x20 && c !== 0x7f) continue;
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0 && trailingNuls(b, i, end)) return true;
    return false;
  }
  return true;
}

function trailingNuls(b: Uint8Array, p: number, end: number): boolean {
  for (let i = p; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Offset after a valid "<PRI>" at p, or -1. RFC 5424 §6.2.1: 1-3 digits, no leading zero
 * (except "<0>"), value ≤ 191.
 */
function afterPri(b: Uint8Array, p: number, end: number): number {
  if (p + 3 > end || b[p] !== LT) return -1;
  let v = 0;
  let i = p + 1;
  while (i < end && i <= p + 3 && isDigit(b[i])) v = v * 10 + (b[i++] - 0x30);
  const digits = i - p - 1;
  if (digits === 0 || i >= end || b[i] !== GT) return -1;
  if (digits > 1 && b[p + 1] === 0x30) return -1;
  return v <= MAX_PRI ? i + 1 : -1;
}

/** RFC 6587 §3.4.1: "MSG-LEN SP SYSLOG-MSG"; the offset of SYSLOG-MSG, or p when not counted. */
function skipOctetCount(b: Uint8Array, p: number, end: number): number {
  if (p >= end || b[p] < 0x31 || b[p] > 0x39) return p;
  let i = p + 1;
  while (i < end && i - p < MAX_COUNT_DIGITS && isDigit(b[i])) i++;
  return i < end && b[i] === SP ? i + 1 : p;
}

const syslog = {
  app: App.Syslog,
  name: 'syslog',
  transports: TCP | UDP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number): Verdict {
    const end = off + len;
    const start = flow.l4 === 17 ? off : skipOctetCount(b, off, end);
    const p = afterPri(b, start, end);
    if (p < 0 || end - p < MIN_CONTENT) return NO_MATCH;
    // The content starts with a header field or text; some senders put one blank after PRI.
    if (b[p] < SP || (b[p] === SP && b[p + 1] <= SP)) return NO_MATCH;
    return isText(b, p, p + SCAN < end ? p + SCAN : end) ? MATCH : NO_MATCH;
  },
};

export default syslog satisfies DpiParser;
