/**
 * A bounded HPACK (RFC 7541) header block reader for DPI. It walks one header block fragment and
 * reports the fields whose names it knows, with their values decoded (literal or Huffman) into a
 * fixed scratch buffer. It keeps no dynamic table: DPI joins connections at any point and only
 * needs a few fields, so a field that refers to the dynamic table (§2.3.2, indexes above 61) is
 * reported with an unknown name and skipped. Literal values are exact whatever the table holds.
 */

/** Names this reader recognises. */
export const H_OTHER = 0;
export const H_AUTHORITY = 1;
export const H_METHOD = 2;
export const H_PATH = 3;
export const H_STATUS = 4;
export const H_CONTENT_TYPE = 5;
export const H_SERVER = 6;
export const H_USER_AGENT = 7;

const NAMED: readonly [string, number][] = [
  [':authority', H_AUTHORITY],
  [':method', H_METHOD],
  [':path', H_PATH],
  [':status', H_STATUS],
  ['content-type', H_CONTENT_TYPE],
  ['server', H_SERVER],
  ['user-agent', H_USER_AGENT],
];
const NAMED_BYTES = NAMED.map(([n]) => Uint8Array.from(n, (c) => c.charCodeAt(0)));

/**
 * RFC 7541 Appendix A, the static table, indexes 1..61: [name, value]. Only names this reader
 * recognises matter, and values only for the entries that carry one it reports.
 */
const STATIC: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = 61;
const STATIC_NAME = Uint8Array.from(STATIC, ([n]) => NAMED.find(([k]) => k === n)?.[1] ?? H_OTHER);
const STATIC_VALUE = STATIC.map(([, v]) => Uint8Array.from(v, (c) => c.charCodeAt(0)));

/**
 * RFC 7541 Appendix B code lengths for symbols 0..256 (256 = EOS). The code is canonical: codes of
 * one length are consecutive and ordered by symbol, each length starting where the previous ended,
 * shifted left; so the lengths alone rebuild the table (e.g. '0' = 00000, EOS = 30 ones).
 */
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;
const MAX_CODE = 30;

/** Canonical decoding tables: per length, first code, count, and offset into SYMBOLS. */
const FIRST = new Int32Array(MAX_CODE + 1);
const COUNT = new Int32Array(MAX_CODE + 1);
const OFFSET = new Int32Array(MAX_CODE + 1);
const SYMBOLS = new Uint16Array(257);
{
  for (const l of CODE_LENGTHS) COUNT[l]++;
  let code = 0;
  let at = 0;
  for (let l = 1; l <= MAX_CODE; l++) {
    FIRST[l] = code;
    OFFSET[l] = at;
    at += COUNT[l];
    code = (code + COUNT[l]) << 1;
  }
  const next = OFFSET.slice();
  for (let s = 0; s <= EOS; s++) SYMBOLS[next[CODE_LENGTHS[s]]++] = s;
}

/** Longest value kept; longer ones are decoded up to this many bytes and flagged truncated. */
export const VALUE_MAX = 512;

/** Decoder for one header block; a single instance is reused (one packet at a time). */
export class HpackReader {
  /** The current field: a known name id, and its value in `value[0..valueLen)`. */
  name = H_OTHER;
  readonly value = new Uint8Array(VALUE_MAX);
  valueLen = 0;
  valueTruncated = false;
  /** Set when the block was malformed (not when it merely ended early). */
  error = false;
  private buf: Uint8Array = STATIC_VALUE[0];
  private pos = 0;
  private end = 0;
  private intValue = 0;

  reset(b: Uint8Array, off: number, len: number): void {
    this.buf = b;
    this.pos = off;
    this.end = off + len;
    this.error = false;
  }

  /**
   * Advances to the next field. Returns false at the end of the fragment, on a field cut by it
   * (CONTINUATION frames are not joined), or on malformed input (`error` set).
   */
  next(): boolean {
    while (this.pos < this.end) {
      const b = this.buf[this.pos];
      if (b & 0x80) {
        // §6.1 Indexed Header Field: 1xxxxxxx, index with a 7-bit prefix.
        if (!this.int(7)) return false;
        const idx = this.intValue;
        if (idx === 0) return this.fail();
        this.setIndexed(idx);
        return true;
      }
      if ((b & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update: 001xxxxx.
        if (!this.int(5)) return false;
        continue;
      }
      // §6.2.1 with incremental indexing (01xxxxxx, 6-bit index); §6.2.2 without indexing
      // (0000xxxx) and §6.2.3 never indexed (0001xxxx), 4-bit index.
      if (!this.int((b & 0x40) !== 0 ? 6 : 4)) return false;
      const idx = this.intValue;
      if (idx === 0) {
        if (!this.string()) return false;
        this.name = this.knownName();
      } else {
        this.name = idx <= STATIC_COUNT ? STATIC_NAME[idx] : H_OTHER;
      }
      return this.string();
    }
    return false;
  }

  private fail(): boolean {
    this.error = true;
    this.pos = this.end;
    return false;
  }

  private setIndexed(idx: number): void {
    if (idx > STATIC_COUNT) {
      this.name = H_OTHER;
      this.valueLen = 0;
      return;
    }
    this.name = STATIC_NAME[idx];
    const v = STATIC_VALUE[idx];
    this.value.set(v);
    this.valueLen = v.length;
    this.valueTruncated = false;
  }

  /** §5.1 prefixed integer; false when cut short or over 2^28 (no sane HPACK value is larger). */
  private int(prefix: number): boolean {
    const b = this.buf;
    const max = (1 << prefix) - 1;
    let v = b[this.pos++] & max;
    if (v === max) {
      let shift = 0;
      for (;;) {
        if (this.pos >= this.end) return false;
        const c = b[this.pos++];
        v += (c & 0x7f) * 2 ** shift;
        shift += 7;
        if ((c & 0x80) === 0) break;
        if (shift > 21) return this.fail();
      }
    }
    this.intValue = v;
    return true;
  }

  /**
   * §5.2 string literal into `value` (a name is decoded there too, then matched). False when cut
   * short or malformed.
   */
  private string(): boolean {
    if (this.pos >= this.end) return false;
    const huffman = (this.buf[this.pos] & 0x80) !== 0;
    if (!this.int(7)) return false;
    const n = this.intValue;
    if (this.pos + n > this.end) {
      this.pos = this.end;
      return false;
    }
    const start = this.pos;
    this.pos += n;
    this.valueTruncated = false;
    if (!huffman) {
      const take = n < VALUE_MAX ? n : VALUE_MAX;
      for (let i = 0; i < take; i++) this.value[i] = this.buf[start + i];
      this.valueLen = take;
      this.valueTruncated = take < n;
      return true;
    }
    return this.huffman(start, n);
  }

  /** Canonical Huffman decoding (Appendix B) bit by bit; padding rules of §5.2. */
  private huffman(start: number, n: number): boolean {
    const b = this.buf;
    const out = this.value;
    let k = 0;
    let code = 0;
    let len = 0;
    for (let i = start; i < start + n; i++) {
      const byte = b[i];
      for (let bit = 7; bit >= 0; bit--) {
        code = (code << 1) | ((byte >> bit) & 1);
        len++;
        const idx = code - FIRST[len];
        if (idx >= 0 && idx < COUNT[len]) {
          const sym = SYMBOLS[OFFSET[len] + idx];
          // §5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a
          // decoding error."
          if (sym === EOS) return this.fail();
          if (k < VALUE_MAX) out[k++] = sym;
          else this.valueTruncated = true;
          code = 0;
          len = 0;
        } else if (len >= MAX_CODE) {
          return this.fail();
        }
      }
    }
    this.valueLen = k;
    // §5.2: padding longer than 7 bits, or not the most significant bits of EOS (all ones), is an
    // error.
    return len <= 7 && code === (1 << len) - 1 ? true : this.fail();
  }

  private knownName(): number {
    const n = this.valueLen;
    for (let i = 0; i < NAMED_BYTES.length; i++) {
      const w = NAMED_BYTES[i];
      if (w.length !== n) continue;
      let k = 0;
      while (k < n && this.value[k] === w[k]) k++;
      if (k === n) return NAMED[i][1];
    }
    return H_OTHER;
  }
}
