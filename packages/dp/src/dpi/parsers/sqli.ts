/**
 * SQL injection patterns in an HTTP request target. The target is percent-decoded (RFC 3986 §2.1,
 * '+' as space for form-encoded queries, a second pass for double encoding), lower-cased, and
 * SQL comments and control whitespace are folded to spaces. Only constructs that ordinary URLs do
 * not contain are reported, so false positives stay rare:
 *  - a tautology after a quote or a space: `' or '1'='1`, `" or ""="`, ` or 1=1`;
 *  - `' or x--` style comment after a boolean operand, and a quote followed by a comment;
 *  - `union [all|distinct] select` followed by a column list;
 *  - stacked statements: `;--`, `; drop`, `; select`...;
 *  - time and file functions: `sleep(`, `pg_sleep(`, `benchmark(`, `waitfor delay '`, `load_file(`;
 *  - catalogue names: `information_schema`, `@@version`, `xp_cmdshell`, `into outfile`.
 */

/** Bytes of a target examined; longer ones are checked on their first part only. */
const MAX_TARGET = 4096;
const scratch = new Uint8Array(MAX_TARGET);
const scratch2 = new Uint8Array(MAX_TARGET);

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const OR = bytes('or');
const AND = bytes('and');
const LIKE = bytes('like');
const UNION = bytes('union');
const ALL = bytes('all');
const DISTINCT = bytes('distinct');
const SELECT = bytes('select');
const WAITFOR = bytes('waitfor');
const DELAY = bytes('delay');
const DASHES = bytes('--');
const FROM = bytes('from');
const STACKED = ['drop', 'delete', 'insert', 'update', 'select', 'shutdown', 'exec', 'declare', 'create', 'alter', 'truncate'].map(bytes);
const FUNCTIONS = ['sleep', 'pg_sleep', 'benchmark', 'load_file', 'extractvalue', 'updatexml'].map(bytes);
const MARKERS = ['information_schema', '@@version', 'xp_cmdshell', 'into outfile', 'into dumpfile'].map(bytes);

/** First bytes of the keywords matched at a word start, so most positions are skipped at once. */
const KEYWORD_START = new Uint8Array(256);
for (const w of [UNION, WAITFOR, ...FUNCTIONS, ...MARKERS]) KEYWORD_START[w[0]] = 1;

const SP = 0x20;
const QUOTE = 0x27;
const DQUOTE = 0x22;

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes src[o..o+n) into dst, lower-casing; '+' becomes a space from offset `plusFrom`
 * on (the query, HTML form encoding). Returns the decoded length.
 */
function decode(src: Uint8Array, o: number, n: number, dst: Uint8Array, plusFrom: number): number {
  let k = 0;
  const end = o + Math.min(n, MAX_TARGET);
  for (let i = o; i < end; i++) {
    let c = src[i];
    if (c === 0x25 && i + 2 < end) {
      const h = hexVal(src[i + 1]);
      const l = hexVal(src[i + 2]);
      if (h >= 0 && l >= 0) {
        c = (h << 4) | l;
        i += 2;
      }
    } else if (c === 0x2b && i > plusFrom) c = SP;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    dst[k++] = c;
  }
  return k;
}

/** Folds SQL comments (`/* *\/`) and control whitespace to single spaces, in place. */
function fold(s: Uint8Array, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) {
    let c = s[i];
    if (c === 0x2f && i + 1 < n && s[i + 1] === 0x2a) {
      const close = indexOf2(s, n, i + 2, 0x2a, 0x2f);
      // An unterminated comment is itself suspicious only after a quote: keep its bytes.
      if (close >= 0) {
        i = close + 1;
        c = SP;
      }
    } else if (c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0xa0) c = SP;
    if (c === SP && k > 0 && s[k - 1] === SP) continue;
    s[k++] = c;
  }
  return k;
}

function indexOf2(s: Uint8Array, n: number, from: number, a: number, b: number): number {
  for (let i = from; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) return i;
  return -1;
}

function at(s: Uint8Array, n: number, i: number, w: Uint8Array): boolean {
  if (i + w.length > n) return false;
  for (let k = 0; k < w.length; k++) if (s[i + k] !== w[k]) return false;
  return true;
}

function isWord(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

function skipSp(s: Uint8Array, n: number, i: number): number {
  while (i < n && s[i] === SP) i++;
  return i;
}

/** Where `operand` found its text (scratch outputs, valid until the next call). */
let opStart = 0;
let opLen = 0;

/** Reads an operand at i: a quoted string or a word; returns the offset after it or -1. */
function operand(s: Uint8Array, n: number, i: number): number {
  if (i >= n) return -1;
  const q = s[i];
  if (q === QUOTE || q === DQUOTE) {
    let j = i + 1;
    while (j < n && s[j] !== q) j++;
    if (j >= n) {
      // The closing quote is the application's own, after the injected text: `'1'='1`.
      opStart = i + 1;
      opLen = j - i - 1;
      return j;
    }
    opStart = i + 1;
    opLen = j - i - 1;
    return j + 1;
  }
  let j = i;
  while (j < n && isWord(s[j])) j++;
  if (j === i) return -1;
  opStart = i;
  opLen = j - i;
  return j;
}

/** `or|and|| |&&` at i followed by a tautology `A = A` / `A like A`, or by `x --`. */
function tautology(s: Uint8Array, n: number, i: number): boolean {
  let p: number;
  if (at(s, n, i, OR)) p = i + 2;
  else if (at(s, n, i, AND)) p = i + 3;
  else if ((s[i] === 0x7c && s[i + 1] === 0x7c) || (s[i] === 0x26 && s[i + 1] === 0x26)) p = i + 2;
  else return false;
  if (p >= n || (s[p] !== SP && s[p] !== QUOTE && s[p] !== DQUOTE && s[p] !== 0x28)) return false;
  p = skipSp(s, n, p);
  if (s[p] === 0x28) p = skipSp(s, n, p + 1);
  let e = operand(s, n, p);
  if (e < 0) return false;
  const aStart = opStart;
  const aLen = opLen;
  e = skipSp(s, n, e);
  // `' or 1--`: the operand alone, then a comment that cuts off the rest of the query.
  if (at(s, n, e, DASHES) || s[e] === 0x23) return true;
  if (s[e] === 0x3d) e++;
  else if (at(s, n, e, LIKE)) e += 4;
  else return false;
  e = skipSp(s, n, e);
  if (operand(s, n, e) < 0 || opLen !== aLen) return false;
  for (let k = 0; k < aLen; k++) if (s[aStart + k] !== s[opStart + k]) return false;
  return true;
}


/**
 * After `union select`: a column list shaped like SQL (`1,2,3`, `*`, `(...)`, `x from y`), which
 * plain text such as "union select committee" lacks.
 */
function selectList(s: Uint8Array, n: number, i: number): boolean {
  if (i < n && isWord(s[i])) return false;
  for (let k = i; k < n; k++) {
    const c = s[k];
    if (c === 0x2c || c === 0x2a || c === 0x29 || (c === SP && at(s, n, k + 1, FROM) && (k + 5 >= n || !isWord(s[k + 5])))) return true;
  }
  return false;
}

function scan(s: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const c = s[i];
    const prev = i > 0 ? s[i - 1] : SP;
    if (c === QUOTE || c === DQUOTE) {
      const j = skipSp(s, n, i + 1);
      if (tautology(s, n, j)) return true;
      // A quote that closes the string and comments out the rest: `admin'--`, `'#`, `'/*`.
      if (at(s, n, j, DASHES) || s[j] === 0x23 || (s[j] === 0x2f && s[j + 1] === 0x2a)) return true;
      if (s[j] === 0x3b) {
        const k = skipSp(s, n, j + 1);
        if (at(s, n, k, DASHES)) return true;
      }
    } else if (c === SP || c === 0x29) {
      // Numeric context: ` or 1=1`, `) or (1=1`.
      if (tautology(s, n, skipSp(s, n, i + 1))) return true;
    } else if (c === 0x3b) {
      const k = skipSp(s, n, i + 1);
      if (at(s, n, k, DASHES)) return true;
      for (let w = 0; w < STACKED.length; w++) {
        const len = STACKED[w].length;
        if (at(s, n, k, STACKED[w]) && (k + len === n || !isWord(s[k + len]))) return true;
      }
    } else if (KEYWORD_START[c] === 1 && !isWord(prev) && prev !== 0x2e) {
      if (at(s, n, i, UNION)) {
        let k = i + UNION.length;
        if (s[k] !== SP && s[k] !== 0x28) continue;
        k = skipSp(s, n, k);
        if (s[k] === 0x28) k = skipSp(s, n, k + 1);
        if (at(s, n, k, ALL)) k = skipSp(s, n, k + ALL.length);
        else if (at(s, n, k, DISTINCT)) k = skipSp(s, n, k + DISTINCT.length);
        if (at(s, n, k, SELECT) && selectList(s, n, k + SELECT.length)) return true;
      }
      for (let w = 0; w < FUNCTIONS.length; w++) {
        if (at(s, n, i, FUNCTIONS[w]) && s[skipSp(s, n, i + FUNCTIONS[w].length)] === 0x28) return true;
      }
      if (at(s, n, i, WAITFOR)) {
        const k = skipSp(s, n, i + WAITFOR.length);
        if (k > i + WAITFOR.length && at(s, n, k, DELAY)) return true;
      }
      for (let w = 0; w < MARKERS.length; w++) if (at(s, n, i, MARKERS[w])) return true;
    }
  }
  return false;
}

/**
 * Bytes without which no pattern above can match: every one needs a quote, a separator (space,
 * '+', '(', ')', a comment), ';', or the '@'/'_' of a catalogue name, and '%' may encode any of
 * them. Targets with none of these (most API paths) skip decoding altogether.
 */
const TRIGGER = new Uint8Array(256);
for (const c of "'\" ;()@_%+*") TRIGGER[c.charCodeAt(0)] = 1;

/** True when the request target b[o..o+n) carries an SQL injection pattern. */
export function sqlInjection(b: Uint8Array, o: number, n: number): boolean {
  let any = false;
  for (let i = o; i < o + n && !any; i++) any = TRIGGER[b[i]] === 1;
  if (!any) return false;
  let q = o + n;
  for (let i = o; i < o + n; i++) {
    if (b[i] === 0x3f) {
      q = i;
      break;
    }
  }
  let s = scratch;
  let len = decode(b, o, n, s, q);
  // Double encoding (%2527): decode once more when a '%' escape survived the first pass.
  for (let i = 0; i < len; i++) {
    if (s[i] === 0x25) {
      len = decode(scratch, 0, len, scratch2, MAX_TARGET);
      s = scratch2;
      break;
    }
  }
  return scan(s, fold(s, len));
}
