/**
 * Helpers for the line-based protocols whose servers answer with three-digit reply codes (SMTP,
 * RFC 5321 §4.2; FTP, RFC 959 §4.2) and whose clients send verbs.
 */
import { equalsUpper } from './binread.js';

const SP = 0x20;
const HYPHEN = 0x2d;
const CR = 0x0d;
const LF = 0x0a;
/** Reply text kept as a banner; a greeting's product string is at its start. */
const MAX_BANNER = 128;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The reply code at p when the line starts "ddd" then SP, "-" (a multiline reply) or CR LF
 * (RFC 5321 §4.2: "Reply-code [ SP textstring ] CRLF"; RFC 959 §4.2), else -1.
 */
export function replyCode(b: Uint8Array, p: number, end: number): number {
  if (p + 4 > end || !isDigit(b[p]) || !isDigit(b[p + 1]) || !isDigit(b[p + 2])) return -1;
  const c = b[p + 3];
  if (c !== SP && c !== HYPHEN && c !== CR) return -1;
  // RFC 5321 §4.2: the first digit is 2-5; RFC 959 §4.2 also has 1yz preliminary replies.
  if (b[p] < 0x31 || b[p] > 0x35) return -1;
  return (b[p] - 0x30) * 100 + (b[p + 1] - 0x30) * 10 + (b[p + 2] - 0x30);
}

/**
 * Whether the line at p is `verb` (upper-case literal, matched in any case, RFC 5321 §2.4 and
 * RFC 959 §5.3) followed by SP or the end of the line, and the line is printable text ending in
 * LF within `max` octets.
 */
export function isVerbLine(b: Uint8Array, p: number, end: number, verb: string, max: number): boolean {
  const n = verb.length;
  if (p + n + 1 > end || !equalsUpper(b, p, n, verb)) return false;
  const c = b[p + n];
  if (c !== SP && c !== CR && c !== LF) return false;
  return lineEnd(b, p, end, max) >= 0;
}

/** Offset of the LF ending the printable line at p within `max` octets, or -1. */
export function lineEnd(b: Uint8Array, p: number, end: number, max: number): number {
  const stop = p + max < end ? p + max : end;
  for (let i = p; i < stop; i++) {
    const c = b[i];
    if (c === LF) return i;
    if (c === CR) {
      if (i + 1 < end && b[i + 1] === LF) return i + 1;
      return -1;
    }
    if (c < 0x20 && c !== 0x09) return -1;
  }
  return -1;
}

/** The text of the reply line at p after its code, bounded and trimmed, copied out to keep. */
export function replyText(b: Uint8Array, p: number, end: number): string {
  let s = '';
  for (let i = p + 4; i < end && i < p + 4 + MAX_BANNER; i++) {
    const c = b[i];
    if (c === CR || c === LF) break;
    s += String.fromCharCode(c);
  }
  return s.trim();
}

/** Whether b[p .. end) holds the ASCII letters of `word` (upper-case literal) in any case. */
export function containsWord(b: Uint8Array, p: number, end: number, word: string): boolean {
  const n = word.length;
  for (let i = p; i + n <= end; i++) if (equalsUpper(b, i, n, word)) return true;
  return false;
}
