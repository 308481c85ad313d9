/**
 * DNS wire-format names (RFC 1035 §3.1, §4.1.4): walking a possibly compressed name without
 * allocating, comparing two names in place, and copying one out as text when it is kept.
 *
 * Every walk is bounded: a compression pointer must point strictly backwards and past the header,
 * so a chain of pointers always terminates; the expanded name may not exceed 255 octets.
 */

/** Results of `walkName` (0 = well-formed). */
export const NAME_OK = 0;
export const NAME_TRUNCATED = -1;
/** Label type 01 or 10 (RFC 1035 §4.1.4 reserves them; RFC 6891 §5 retired extended labels). */
export const NAME_BAD_LABEL = -2;
/** A pointer to itself or forwards: the shape a compression loop needs (RFC 1035 §4.1.4 "prior occurrence"). */
export const NAME_LOOP = -3;
/** Expanded name longer than 255 octets (RFC 1035 §2.3.4). */
export const NAME_TOO_LONG = -4;
/** A pointer into the 12-byte header, where no name can start. */
export const NAME_BAD_POINTER = -5;

const HEADER_LEN = 12;
const MAX_NAME_WIRE = 255;
/** Text of a 255-octet name with every octet escaped as \DDD (RFC 1035 §5.1) fits in 4 × 255. */
const TEXT_CAP = 4 * MAX_NAME_WIRE;

/** What one walk found. One instance per caller, reused for every name. */
export class NameScan {
  /** Offset just past the name where it sits (after its first pointer, if any). */
  end = 0;
  /** Expanded wire length: length octets, label octets and the root octet. */
  wireLen = 0;
  labels = 0;
  maxLabel = 0;
  /** Octets other than letters, digits, '-', '_', '*' and '/' (RFC 1035 §2.3.1, RFC 2782, RFC 2317). */
  oddChars = 0;
  /** Offset of the offending pointer when the walk returned NAME_LOOP. */
  loopAt = -1;
  /** Presentation text (lower-case, no trailing dot) when the walk was asked to write it. */
  readonly text = new Uint8Array(TEXT_CAP);
  textLen = 0;
}

/** Whether an octet belongs to the usual host-name alphabet (see NameScan.oddChars). */
function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x2a ||
    c === 0x2f
  );
}

/**
 * Walk the name at `off` of the message b[msg .. msgEnd). Returns NAME_OK or a negative reason and
 * fills `s`; with `withText` also writes the presentation form into `s.text`.
 */
export function walkName(b: Uint8Array, msg: number, msgEnd: number, off: number, s: NameScan, withText: boolean): number {
  s.end = -1;
  s.wireLen = 1;
  s.labels = 0;
  s.maxLabel = 0;
  s.oddChars = 0;
  s.loopAt = -1;
  s.textLen = 0;
  let p = off;
  for (;;) {
    if (p >= msgEnd) return NAME_TRUNCATED;
    const len = b[p];
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      // RFC 1035 §4.1.4: two octets, 11 then a 14-bit offset from the start of the message.
      if (p + 1 >= msgEnd) return NAME_TRUNCATED;
      const target = msg + (((len & 0x3f) << 8) | b[p + 1]);
      if (s.end < 0) s.end = p + 2;
      // Strictly backwards: each hop lowers p, so the walk ends in at most (p - msg) hops.
      if (target >= p) {
        s.loopAt = p - msg;
        return NAME_LOOP;
      }
      if (target < msg + HEADER_LEN) return NAME_BAD_POINTER;
      p = target;
      continue;
    }
    if (kind !== 0) return NAME_BAD_LABEL;
    if (len === 0) {
      if (s.end < 0) s.end = p + 1;
      return NAME_OK;
    }
    // RFC 1035 §3.1: a label is one length octet (≤ 63) and that many octets.
    if (p + 1 + len > msgEnd) return NAME_TRUNCATED;
    s.wireLen += 1 + len;
    if (s.wireLen > MAX_NAME_WIRE) return NAME_TOO_LONG;
    s.labels++;
    if (len > s.maxLabel) s.maxLabel = len;
    if (withText && s.labels > 1) s.text[s.textLen++] = 0x2e;
    for (let i = p + 1; i <= p + len; i++) {
      const c = b[i];
      if (!isNameChar(c)) s.oddChars++;
      if (withText) writeTextOctet(s, c);
    }
    p += 1 + len;
  }
}

/** Lower-cases letters (RFC 4343 §3: names compare case-insensitively) and escapes the rest. */
function writeTextOctet(s: NameScan, c: number): void {
  const t = s.text;
  if (c >= 0x41 && c <= 0x5a) {
    t[s.textLen++] = c | 0x20;
  } else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) {
    t[s.textLen++] = c;
  } else {
    // RFC 1035 §5.1: \DDD for an octet that is not printable or that would be read as syntax.
    t[s.textLen++] = 0x5c;
    t[s.textLen++] = 0x30 + ((c / 100) | 0);
    t[s.textLen++] = 0x30 + (((c / 10) | 0) % 10);
    t[s.textLen++] = 0x30 + (c % 10);
  }
}

/** Copy out the text of the last walk made with `withText` (the root name is "."). */
export function nameText(s: NameScan): string {
  if (s.textLen === 0) return '.';
  return String.fromCharCode.apply(null, s.text.subarray(0, s.textLen) as unknown as number[]);
}

/** Whether the kept text equals the last text walk, without allocating. */
export function textEquals(s: NameScan, kept: string): boolean {
  if (s.textLen === 0) return kept === '.';
  if (kept.length !== s.textLen) return false;
  for (let i = 0; i < s.textLen; i++) if (kept.charCodeAt(i) !== s.text[i]) return false;
  return true;
}

/**
 * Whether the names at offsets a and c of one message are the same name, compared label by label
 * with ASCII case folded (RFC 4343 §3). Both must already have walked as NAME_OK.
 */
export function sameName(b: Uint8Array, msg: number, msgEnd: number, a: number, c: number): boolean {
  let p = a;
  let q = c;
  // Each side may hop at most once per octet before it, and a name has at most 128 labels.
  for (let guard = 0; guard < 512; guard++) {
    p = skipPointers(b, msg, msgEnd, p);
    q = skipPointers(b, msg, msgEnd, q);
    if (p < 0 || q < 0) return false;
    if (p === q) return true;
    const len = b[p];
    if (len !== b[q]) return false;
    if (len === 0) return true;
    if (p + 1 + len > msgEnd || q + 1 + len > msgEnd) return false;
    for (let i = 1; i <= len; i++) if (foldCase(b[p + i]) !== foldCase(b[q + i])) return false;
    p += 1 + len;
    q += 1 + len;
  }
  return false;
}

function foldCase(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Follow pointers at p until a length octet; -1 on anything walkName would reject. */
function skipPointers(b: Uint8Array, msg: number, msgEnd: number, p: number): number {
  while (p < msgEnd && (b[p] & 0xc0) === 0xc0) {
    if (p + 1 >= msgEnd) return -1;
    const target = msg + (((b[p] & 0x3f) << 8) | b[p + 1]);
    if (target >= p || target < msg + HEADER_LEN) return -1;
    p = target;
  }
  if (p >= msgEnd || (b[p] & 0xc0) !== 0) return -1;
  return p;
}
