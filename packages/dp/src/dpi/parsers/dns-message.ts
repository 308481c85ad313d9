/**
 * Judging one DNS message (RFC 1035 §4.1): header, first question and, when asked, whether every
 * resource record parses to the exact end. The judgement is a grade plus a count of anomalies so
 * that the parser can accept slightly damaged DNS while refusing bytes that only resemble it.
 */
import { NAME_OK, NAME_TRUNCATED, NameScan, walkName } from './dns-wire.js';

export const HEADER_LEN = 12;

/** Not DNS: too short for a header, or header fields no DNS implementation sends. */
export const BAD = 0;
/** A legal header with anomalies (see DnsMsg.anomalies), possibly without a readable question. */
export const WEAK = 1;
/** Every check passed. */
export const GOOD = 2;

/** Anomalies charged for a question that is missing or cannot be read. */
export const UNREADABLE_QUESTION = 2;

export const QTYPE_A = 1;
export const QTYPE_NULL = 10;
export const QTYPE_CNAME = 5;
export const QTYPE_TXT = 16;
export const QTYPE_AAAA = 28;
export const QTYPE_OPT = 41;
export const QTYPE_IXFR = 251;
export const QTYPE_AXFR = 252;

/** One message's header and first question. One instance per caller, reused. */
export class DnsMsg {
  id = 0;
  qr = false;
  opcode = 0;
  rcode = 0;
  qd = 0;
  an = 0;
  ns = 0;
  ar = 0;
  /** Offset of the first question's name, its type and class. */
  qName = 0;
  qtype = 0;
  qclass = 0;
  /** Offset just past the first question. */
  qEnd = 0;
  /** Walk result of the first question's name (dns-wire NAME_*). */
  nameResult = 0;
  /** Whether the first question was read whole (name, type and class). */
  hasQuestion = false;
  anomalies = 0;
}

/** Resource record fields read by `readRecord`. One instance per caller, reused. */
export class RrScan {
  name = 0;
  type = 0;
  ttl = 0;
  rdata = 0;
  rdlen = 0;
  /** Walk result of the owner name (dns-wire NAME_*). */
  nameResult = 0;
}

/**
 * Opcodes in the IANA registry (RFC 6895 §2.2): 0 QUERY, 1 IQUERY (obsolete, RFC 3425),
 * 2 STATUS, 4 NOTIFY (RFC 1996), 5 UPDATE (RFC 2136), 6 DSO (RFC 8490). 3 and 7-15 are unassigned.
 */
function knownOpcode(op: number): boolean {
  return op <= 2 || (op >= 4 && op <= 6);
}

/**
 * Types a question plausibly asks (RFC 6895 §3.1 registry): the assigned data and meta types
 * 1-260, TA/DLV 32768-32769 and private use 65280-65534.
 */
function plausibleQtype(t: number): boolean {
  return (t >= 1 && t <= 260) || t === 32768 || t === 32769 || (t >= 65280 && t <= 65534);
}

/** Classes (RFC 6895 §3.2): IN 1, CH 3, HS 4, NONE 254 (UPDATE), ANY 255. */
function plausibleQclass(c: number): boolean {
  return c === 1 || c === 3 || c === 4 || c === 254 || c === 255;
}

/**
 * Read the header and first question of the message b[off .. off+len) into `m`, using `s` for the
 * name walk. Returns BAD, WEAK or GOOD. `whole` also requires every record to parse and the last
 * one to end exactly at the end of the message (true for a UDP datagram or a complete TCP message).
 */
export function judgeMessage(
  b: Uint8Array,
  off: number,
  len: number,
  whole: boolean,
  m: DnsMsg,
  s: NameScan,
  rr: RrScan,
): number {
  // Reset first: `m` is shared, and a BAD verdict must not leave the last message's fields behind.
  m.anomalies = 0;
  m.qtype = 0;
  m.qclass = 0;
  m.qName = off + HEADER_LEN;
  m.qEnd = m.qName;
  m.nameResult = NAME_OK;
  m.hasQuestion = false;
  if (len < HEADER_LEN) return BAD;
  const end = off + len;
  m.id = (b[off] << 8) | b[off + 1];
  const f1 = b[off + 2];
  const f2 = b[off + 3];
  m.qr = (f1 & 0x80) !== 0;
  m.opcode = (f1 >> 3) & 0x0f;
  m.rcode = f2 & 0x0f;
  m.qd = (b[off + 4] << 8) | b[off + 5];
  m.an = (b[off + 6] << 8) | b[off + 7];
  m.ns = (b[off + 8] << 8) | b[off + 9];
  m.ar = (b[off + 10] << 8) | b[off + 11];
  // RFC 1035 §4.1.1 OPCODE; a message with an opcode nobody assigned is not DNS.
  if (!knownOpcode(m.opcode)) return BAD;
  // RCODE 12-15 are unassigned in the 4-bit field (RFC 6895 §2.3).
  if (m.rcode >= 12) return BAD;

  let a = 0;
  // RFC 1035 §4.1.1: Z "must be zero in all queries and responses".
  if ((f2 & 0x40) !== 0) a++;
  // A query carries no answer code (RFC 1035 §4.1.1 RCODE is "set as part of responses").
  if (!m.qr && m.rcode !== 0) a++;
  // RFC 9619 §3: a QUERY has exactly one question; NOTIFY and UPDATE name one zone the same way.
  if (m.qd !== 1) a++;
  // Each question needs ≥ 5 octets and each record ≥ 11 (root or pointer, type, class, TTL, RDLENGTH).
  if (m.qd * 5 + (m.an + m.ns + m.ar) * 11 > len - HEADER_LEN) a++;
  m.nameResult = m.qd === 0 ? NAME_TRUNCATED : walkName(b, off, end, m.qName, s, false);
  // RFC 1035 §4.1.2: QTYPE and QCLASS, two octets each, follow QNAME.
  if (m.nameResult !== NAME_OK || s.end + 4 > end) {
    m.hasQuestion = false;
    m.anomalies = a + UNREADABLE_QUESTION;
    return WEAK;
  }
  m.hasQuestion = true;
  m.qtype = (b[s.end] << 8) | b[s.end + 1];
  m.qclass = (b[s.end + 2] << 8) | b[s.end + 3];
  m.qEnd = s.end + 4;
  if (s.oddChars > 0) a++;
  if (!plausibleQtype(m.qtype)) a++;
  if (!plausibleQclass(m.qclass)) a++;
  if (whole && a === 0 && !recordsFillMessage(b, off, end, m, s, rr)) a++;
  m.anomalies = a;
  return a === 0 ? GOOD : WEAK;
}

/** Walk the remaining questions and all records; true when the last one ends at `end`. */
function recordsFillMessage(b: Uint8Array, off: number, end: number, m: DnsMsg, s: NameScan, rr: RrScan): boolean {
  let p = m.qEnd;
  for (let i = 1; i < m.qd; i++) {
    if (walkName(b, off, end, p, s, false) !== NAME_OK || s.end + 4 > end) return false;
    p = s.end + 4;
  }
  const records = m.an + m.ns + m.ar;
  for (let i = 0; i < records; i++) {
    p = readRecord(b, off, end, p, rr, s);
    if (p < 0) return false;
  }
  return p === end;
}

/**
 * Read the resource record at p (RFC 1035 §4.1.3: NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA) into
 * `rr`. Returns the offset after it, or -1 when it does not fit or its owner name is malformed.
 */
export function readRecord(b: Uint8Array, off: number, end: number, p: number, rr: RrScan, s: NameScan): number {
  rr.name = p;
  rr.nameResult = walkName(b, off, end, p, s, false);
  if (rr.nameResult !== NAME_OK) return -1;
  const q = s.end;
  if (q + 10 > end) return -1;
  rr.type = (b[q] << 8) | b[q + 1];
  rr.ttl = ((b[q + 4] << 24) | (b[q + 5] << 16) | (b[q + 6] << 8) | b[q + 7]) >>> 0;
  rr.rdlen = (b[q + 8] << 8) | b[q + 9];
  rr.rdata = q + 10;
  if (rr.rdata + rr.rdlen > end) return -1;
  return rr.rdata + rr.rdlen;
}
