/**
 * HTTP/1.x (RFC 9112). A session is claimed by a complete request line with a known method
 * (RFC 9112 §3) or a complete status line (§4). Each direction is then followed message by message:
 * header fields are read line by line, bodies are skipped by Content-Length or chunked framing
 * (§6.3, §7.1) so later messages on a keep-alive connection are read too, for a bounded number of
 * packets. Lines split across segments are reassembled in a small per-direction buffer; a line
 * longer than LINE_MAX is not HTTP this parser will vouch for (a start line) or is skipped (a field).
 *
 * Threats: negative Content-Length, request smuggling (Content-Length with Transfer-Encoding, or
 * differing Content-Length values), SQL injection in the request target.
 * Refinement: `Upgrade: websocket` answered by 101 makes the session WebSocket (RFC 6455 §4).
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { sqlInjection } from './sqli.js';

/** Longest start or field line handled (servers commonly cap at 8 KiB per field; 4 KiB is plenty for DPI). */
const LINE_MAX = 4096;
/** Copied-out metadata bounds. */
const PATH_MAX = 256;
const NAME_MAX = 255;

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** RFC 9110 §9 and the registered WebDAV methods (RFC 4918, RFC 3253, RFC 5323). */
const METHOD_NAMES = [
  'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'MKACTIVITY', 'CHECKOUT', 'MERGE',
];
const METHODS = METHOD_NAMES.map(bytes);
const M_HEAD = METHOD_NAMES.indexOf('HEAD');
const M_CONNECT = METHOD_NAMES.indexOf('CONNECT');
const HTTP_SLASH = bytes('HTTP/');

/** Header fields this parser reads, lower-case (RFC 9110 §5.1: names are case-insensitive). */
const F_HOST = 0;
const F_USER_AGENT = 1;
const F_SERVER = 2;
const F_CONTENT_LENGTH = 3;
const F_TRANSFER_ENCODING = 4;
const F_UPGRADE = 5;
const FIELDS = ['host', 'user-agent', 'server', 'content-length', 'transfer-encoding', 'upgrade'].map(bytes);
const CHUNKED = bytes('chunked');
const WEBSOCKET = bytes('websocket');

/** Per-direction message phases. */
const P_START = 0;
const P_FIELDS = 1;
const P_BODY = 2;
const P_CHUNK_SIZE = 3;
const P_CHUNK_DATA = 4;
const P_CHUNK_END = 5;
const P_TRAILERS = 6;
/** Not following this direction any more (body until close, tunnel, or lost framing). */
const P_DONE = 7;

/** How much of a session is followed after the match. */
const FOLLOW_PACKETS = 64;

class Direction {
  phase = P_START;
  /** Partial line carried over from the previous segment; allocated on first need. */
  line: Uint8Array | null = null;
  lineLen = 0;
  /** The current line outgrew LINE_MAX: its bytes are dropped until LF. */
  overflow = false;
  /** Body or chunk bytes still to skip. */
  remain = 0;
  /** Messages whose start line parsed. */
  messages = 0;
  // The message being read.
  isRequest = false;
  method = -1;
  status = 0;
  clCount = 0;
  clValue = -1;
  clConflict = false;
  clInvalid = false;
  teSeen = false;
  teChunked = false;
  upgradeWs = false;
}

class HttpState {
  readonly c = new Direction();
  readonly s = new Direction();
  /** Method of the latest request (a response to HEAD or CONNECT is framed differently, §6.3). */
  lastMethod = -1;
  wsRequested = false;
  followed = 0;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** RFC 9110 §5.6.2 tchar. */
function isTchar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
    c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
}

function latin1(b: Uint8Array, o: number, n: number): string {
  return String.fromCharCode.apply(null, b.subarray(o, o + n) as unknown as number[]);
}

/** VCHAR, SP, HTAB and obs-text (RFC 9110 §5.5 field values, RFC 9112 §4 reason phrases). */
function visible(b: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) if ((b[i] < SP && b[i] !== HT) || b[i] === 0x7f) return false;
  return true;
}

/** Index of the method token at b[o..], or -1 (also when only a prefix of one is present). */
function methodAt(b: Uint8Array, o: number, n: number): number {
  for (let m = 0; m < METHODS.length; m++) {
    const w = METHODS[m];
    if (n > w.length && b[o + w.length] === SP) {
      let k = 0;
      while (k < w.length && b[o + k] === w[k]) k++;
      if (k === w.length) return m;
    }
  }
  return -1;
}

function prefixOf(b: Uint8Array, o: number, n: number, w: Uint8Array): boolean {
  if (n > w.length) return false;
  for (let k = 0; k < n; k++) if (b[o + k] !== w[k]) return false;
  return true;
}

/**
 * True when b[o..o+n) could still grow into a start line: a prefix of "HTTP/", or of
 * method SP target SP "HTTP/1.x" CR. Used to wait for the rest of a first line split across
 * segments rather than give up or guess.
 */
function startPrefix(b: Uint8Array, o: number, n: number): boolean {
  if (prefixOf(b, o, n < 5 ? n : 5, HTTP_SLASH)) return true;
  const end = o + n;
  for (let m = 0; m < METHODS.length; m++) {
    const w = METHODS[m];
    if (n <= w.length) {
      if (prefixOf(b, o, n, w)) return true;
      continue;
    }
    if (!prefixOf(b, o, w.length, w) || b[o + w.length] !== SP) continue;
    let i = o + w.length + 1;
    while (i < end && b[i] > SP && b[i] !== 0x7f) i++;
    if (i === end) return true;
    if (b[i] !== SP) return false;
    // Then a prefix of "HTTP/1.x" CR; what follows belongs to the full parse.
    for (let k = 0; k < 9 && i + 1 + k < end; k++) {
      const c = b[i + 1 + k];
      const ok = k < 5 ? c === HTTP_SLASH[k] : k === 5 ? c === 0x31 : k === 6 ? c === 0x2e : k === 7 ? isDigit(c) : k === 8 && c === CR;
      if (!ok) return false;
    }
    return true;
  }
  return false;
}

/** "HTTP/1.x" at b[o..o+8) (RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, major 1 here). */
function version1(b: Uint8Array, o: number): boolean {
  for (let k = 0; k < 5; k++) if (b[o + k] !== HTTP_SLASH[k]) return false;
  return b[o + 5] === 0x31 && b[o + 6] === 0x2e && isDigit(b[o + 7]);
}

function resetMessage(t: Direction): void {
  t.method = -1;
  t.status = 0;
  t.clCount = 0;
  t.clValue = -1;
  t.clConflict = false;
  t.clInvalid = false;
  t.teSeen = false;
  t.teChunked = false;
  t.upgradeWs = false;
}

/**
 * Request line, RFC 9112 §3: method SP request-target SP HTTP-version. Returns false if malformed.
 */
function requestLine(st: HttpState, t: Direction, flow: DpiFlow, b: Uint8Array, o: number, n: number): boolean {
  const m = methodAt(b, o, n);
  if (m < 0) return false;
  const target = o + METHODS[m].length + 1;
  // §3: exactly one SP, then the target up to the last SP; the version closes the line.
  if (n < METHODS[m].length + 1 + 1 + 9 || b[o + n - 9] !== SP || !version1(b, o + n - 8)) return false;
  const targetLen = o + n - 9 - target;
  for (let i = target; i < target + targetLen; i++) if (b[i] <= SP || b[i] === 0x7f) return false;
  if (targetLen === 0) return false;
  resetMessage(t);
  t.isRequest = true;
  t.method = m;
  st.lastMethod = m;
  const meta = flow.meta;
  if (meta.method === undefined) {
    meta.method = METHOD_NAMES[m];
    meta.path = latin1(b, target, targetLen < PATH_MAX ? targetLen : PATH_MAX);
  }
  if (sqlInjection(b, target, targetLen)) {
    flow.threat(Threat.SQL_INJECTION, `${METHOD_NAMES[m]} ${latin1(b, target, targetLen < PATH_MAX ? targetLen : PATH_MAX)}`);
  }
  return true;
}

/** Status line, RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase]. */
function statusLine(t: Direction, flow: DpiFlow, b: Uint8Array, o: number, n: number): boolean {
  if (n < 12 || !version1(b, o) || b[o + 8] !== SP) return false;
  if (!isDigit(b[o + 9]) || !isDigit(b[o + 10]) || !isDigit(b[o + 11])) return false;
  // Some servers omit the SP before an empty reason; anything else after the code is malformed.
  if (n > 12 && b[o + 12] !== SP) return false;
  if (!visible(b, o, n)) return false;
  const status = (b[o + 9] - 0x30) * 100 + (b[o + 10] - 0x30) * 10 + (b[o + 11] - 0x30);
  if (status < 100) return false;
  resetMessage(t);
  t.isRequest = false;
  t.status = status;
  if (flow.meta.status === undefined) flow.meta.status = status;
  return true;
}

function fieldAt(b: Uint8Array, o: number, nameLen: number): number {
  for (let f = 0; f < FIELDS.length; f++) {
    const w = FIELDS[f];
    if (w.length !== nameLen) continue;
    let k = 0;
    while (k < nameLen && lower(b[o + k]) === w[k]) k++;
    if (k === nameLen) return f;
  }
  return -1;
}

/** True when the comma-separated list b[o..o+n) contains `token` (case-insensitive); `last` = only as the final one. */
function hasToken(b: Uint8Array, o: number, n: number, token: Uint8Array, last: boolean): boolean {
  let found = false;
  let i = o;
  const end = o + n;
  while (i < end) {
    while (i < end && (b[i] === SP || b[i] === HT || b[i] === 0x2c)) i++;
    const s = i;
    while (i < end && b[i] !== 0x2c && b[i] !== SP && b[i] !== HT && b[i] !== 0x3b) i++;
    let match = i - s === token.length;
    for (let k = 0; match && k < token.length; k++) if (lower(b[s + k]) !== token[k]) match = false;
    found = last ? match : found || match;
    while (i < end && b[i] !== 0x2c) i++;
  }
  return found;
}

/** Content-Length (RFC 9110 §8.6): 1*DIGIT, possibly a list of identical values. */
function contentLength(t: Direction, flow: DpiFlow, b: Uint8Array, o: number, n: number): void {
  let i = o;
  const end = o + n;
  while (i < end) {
    while (i < end && (b[i] === SP || b[i] === HT || b[i] === 0x2c)) i++;
    if (i === end) break;
    if (b[i] === 0x2d && i + 1 < end && isDigit(b[i + 1])) {
      flow.threat(Threat.HTTP_NEGATIVE_LENGTH, `Content-Length: ${latin1(b, o, n < 32 ? n : 32)}`);
      t.clInvalid = true;
      return;
    }
    let v = 0;
    const s = i;
    while (i < end && isDigit(b[i])) {
      v = v * 10 + (b[i] - 0x30);
      i++;
    }
    // 2^53 bounds the arithmetic; no real body is that long.
    if (i === s || i - s > 15 || (i < end && b[i] !== SP && b[i] !== HT && b[i] !== 0x2c)) {
      t.clInvalid = true;
      return;
    }
    if (t.clCount > 0 && v !== t.clValue) t.clConflict = true;
    t.clValue = v;
    t.clCount++;
  }
}

function fieldLine(st: HttpState, t: Direction, flow: DpiFlow, b: Uint8Array, o: number, n: number): void {
  // RFC 9112 §5.2: obs-fold continuation lines are not read.
  if (b[o] === SP || b[o] === HT) return;
  let c = o;
  const end = o + n;
  while (c < end && isTchar(b[c])) c++;
  // RFC 9112 §5.1: field-name ":" OWS field-value OWS, no whitespace before the colon.
  if (c === o || c === end || b[c] !== 0x3a) return;
  const f = fieldAt(b, o, c - o);
  if (f < 0) return;
  let v = c + 1;
  let e = end;
  while (v < e && (b[v] === SP || b[v] === HT)) v++;
  while (e > v && (b[e - 1] === SP || b[e - 1] === HT)) e--;
  const vl = e - v;
  const meta = flow.meta;
  switch (f) {
    case F_HOST:
      if (t.isRequest && meta.host === undefined && vl > 0 && vl <= NAME_MAX && visible(b, v, vl)) meta.host = latin1(b, v, vl).toLowerCase();
      break;
    case F_USER_AGENT:
      if (t.isRequest && meta.userAgent === undefined && vl > 0 && visible(b, v, vl)) meta.userAgent = latin1(b, v, vl < NAME_MAX ? vl : NAME_MAX);
      break;
    case F_SERVER:
      if (!t.isRequest && meta.serverSoftware === undefined && vl > 0 && visible(b, v, vl)) meta.serverSoftware = latin1(b, v, vl < NAME_MAX ? vl : NAME_MAX);
      break;
    case F_CONTENT_LENGTH:
      contentLength(t, flow, b, v, vl);
      break;
    case F_TRANSFER_ENCODING:
      t.teSeen = true;
      // RFC 9112 §6.3: the message is chunked only if chunked is the final coding.
      t.teChunked = hasToken(b, v, vl, CHUNKED, true);
      break;
    case F_UPGRADE:
      if (hasToken(b, v, vl, WEBSOCKET, false)) {
        t.upgradeWs = true;
        if (t.isRequest) st.wsRequested = true;
      }
      break;
  }
}

/** End of a header section: threats, the WebSocket refinement, then body framing (RFC 9112 §6.3). */
function endOfFields(st: HttpState, t: Direction, flow: DpiFlow): void {
  if (t.isRequest) {
    // RFC 9112 §6.1: "A sender MUST NOT send a Content-Length header field in any message that
    // contains a Transfer-Encoding header field"; §6.3 item 3 calls such a request a likely
    // smuggling attempt. RFC 9110 §8.6: differing Content-Length values are unrecoverable.
    if (t.teSeen && t.clCount > 0) flow.threat(Threat.HTTP_SMUGGLING, 'Content-Length with Transfer-Encoding');
    else if (t.clConflict) flow.threat(Threat.HTTP_SMUGGLING, 'conflicting Content-Length values');
  } else if (t.status === 101) {
    // RFC 6455 §4.2.2: the server accepts with 101 and Upgrade: websocket; from here on the
    // bytes are WebSocket frames, no longer HTTP.
    if (st.wsRequested || t.upgradeWs) flow.meta.app = App.WebSocket;
    st.c.phase = P_DONE;
    st.s.phase = P_DONE;
    return;
  }
  if (!t.isRequest) {
    const m = st.lastMethod;
    // §6.3 items 1-2: responses to HEAD, 1xx, 204 and 304 have no body; a 2xx to CONNECT is a tunnel.
    if (m === M_CONNECT && t.status >= 200 && t.status < 300) {
      st.c.phase = P_DONE;
      st.s.phase = P_DONE;
      return;
    }
    if (m === M_HEAD || t.status < 200 || t.status === 204 || t.status === 304) {
      t.phase = P_START;
      return;
    }
  }
  if (t.teSeen) {
    // §6.3 items 3-4: a final chunked coding frames the body; any other coding means read until
    // close for a response and an unreadable request.
    t.phase = t.teChunked ? P_CHUNK_SIZE : P_DONE;
  } else if (t.clInvalid) {
    t.phase = P_DONE;
  } else if (t.clCount > 0) {
    t.remain = t.clValue;
    t.phase = t.clValue > 0 ? P_BODY : P_START;
  } else {
    // §6.3 items 6-7: no length means no body for a request, body until close for a response.
    t.phase = t.isRequest ? P_START : P_DONE;
  }
}

/** One complete line b[o..o+n) without its LF (a CR before it is stripped here). */
function onLine(st: HttpState, t: Direction, flow: DpiFlow, b: Uint8Array, o: number, n: number): void {
  if (n > 0 && b[o + n - 1] === CR) n--;
  switch (t.phase) {
    case P_START:
      // RFC 9112 §2.2: a recipient SHOULD ignore at least one empty line before the start line.
      if (n === 0 && t.messages > 0) return;
      if (requestLine(st, t, flow, b, o, n) || statusLine(t, flow, b, o, n)) {
        t.messages++;
        t.phase = P_FIELDS;
      } else {
        t.phase = P_DONE;
      }
      return;
    case P_FIELDS:
      if (n === 0) endOfFields(st, t, flow);
      else fieldLine(st, t, flow, b, o, n);
      return;
    case P_CHUNK_SIZE: {
      // RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional extensions.
      let v = 0;
      let i = o;
      while (i < o + n && i - o < 8) {
        const c = lower(b[i]);
        const h = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
        if (h < 0) break;
        v = v * 16 + h;
        i++;
      }
      if (i === o || (i < o + n && b[i] !== 0x3b && b[i] !== SP && b[i] !== HT)) {
        t.phase = P_DONE;
      } else if (v === 0) {
        t.phase = P_TRAILERS;
      } else {
        t.remain = v;
        t.phase = P_CHUNK_DATA;
      }
      return;
    }
    case P_CHUNK_END:
      // RFC 9112 §7.1: chunk-data is followed by CRLF.
      t.phase = n === 0 ? P_CHUNK_SIZE : P_DONE;
      return;
    case P_TRAILERS:
      if (n === 0) t.phase = P_START;
      return;
  }
}

/** Feeds one payload of one direction: lines, and body bytes skipped by count. */
function feed(st: HttpState, t: Direction, flow: DpiFlow, b: Uint8Array, off: number, len: number): void {
  const end = off + len;
  let p = off;
  while (p < end && t.phase !== P_DONE) {
    if (t.phase === P_BODY || t.phase === P_CHUNK_DATA) {
      const n = Math.min(t.remain, end - p);
      p += n;
      t.remain -= n;
      if (t.remain === 0) t.phase = t.phase === P_BODY ? P_START : P_CHUNK_END;
      continue;
    }
    let lf = p;
    while (lf < end && b[lf] !== LF) lf++;
    const have = t.lineLen;
    if (lf === end) {
      // No LF yet: keep the partial line for the next segment, if it fits.
      const n = end - p;
      if (t.overflow || have + n > LINE_MAX) {
        t.overflow = true;
        t.lineLen = 0;
      } else {
        const line = (t.line ??= new Uint8Array(LINE_MAX));
        for (let i = 0; i < n; i++) line[have + i] = b[p + i];
        t.lineLen = have + n;
      }
      return;
    }
    if (t.overflow) {
      // The tail of a line too long to read: a start line this long is refused, a field skipped.
      t.overflow = false;
      if (t.phase !== P_FIELDS && t.phase !== P_TRAILERS) t.phase = P_DONE;
    } else if (have > 0) {
      const n = lf - p;
      if (have + n > LINE_MAX || t.line === null) {
        if (t.phase !== P_FIELDS && t.phase !== P_TRAILERS) t.phase = P_DONE;
      } else {
        const line = t.line;
        for (let i = 0; i < n; i++) line[have + i] = b[p + i];
        onLine(st, t, flow, line, 0, have + n);
      }
    } else if (lf - p > LINE_MAX) {
      if (t.phase !== P_FIELDS && t.phase !== P_TRAILERS) t.phase = P_DONE;
    } else {
      onLine(st, t, flow, b, p, lf - p);
    }
    t.lineLen = 0;
    p = lf + 1;
  }
}

const http: DpiParser & { slot: number } = {
  app: App.HTTP,
  name: 'http',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    let st = flow.state[this.slot] as HttpState | undefined;
    if (st === undefined) {
      // Decide on the first bytes before allocating anything for this session.
      if (!startPrefix(data, off, len < 24 ? len : 24)) return NO_MATCH;
      st = new HttpState();
      flow.state[this.slot] = st;
    }
    const t = fromClient ? st.c : st.s;
    if (t.messages === 0 && t.lineLen === 0 && t.phase === P_START && !startPrefix(data, off, len < 24 ? len : 24)) return NO_MATCH;
    feed(st, t, flow, data, off, len);
    if (t.messages > 0) return MATCH;
    if (t.phase === P_DONE) return NO_MATCH;
    // Still inside the first line: it must keep looking like one.
    return t.line !== null && !startPrefix(t.line, 0, t.lineLen) ? NO_MATCH : CONTINUE;
  },

  follow(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    const st = flow.state[this.slot] as HttpState | undefined;
    if (st === undefined) return false;
    feed(st, fromClient ? st.c : st.s, flow, data, off, len);
    return ++st.followed < FOLLOW_PACKETS && (st.c.phase !== P_DONE || st.s.phase !== P_DONE);
  },
};

export default http;
