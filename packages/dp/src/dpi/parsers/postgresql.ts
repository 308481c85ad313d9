/**
 * PostgreSQL frontend/backend protocol 3.x (PostgreSQL documentation, chapter "Frontend/Backend
 * Protocol": "Message Flow" and "Message Formats"). A session is recognised by its first client
 * message (StartupMessage, CancelRequest, or SSLRequest/GSSENCRequest answered by one byte), or,
 * mid-stream, by typed messages that tile both directions' payloads exactly.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { equalsUpper, indexOf, isPrintable, latin1, u32be } from './binread.js';

/** "StartupMessage": Int32(196608) for protocol 3.0; minor versions 0..2 exist (3.2 in PostgreSQL 18). */
const PROTO_3 = 3;
const MAX_MINOR = 2;
/** "SSLRequest" Int32(80877103), "GSSENCRequest" Int32(80877104), "CancelRequest" Int32(80877102). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** flow.state: an SSLRequest / GSSENCRequest awaits its one-byte answer; bits of typed streams seen. */
const AWAIT_SSL = 1;
const AWAIT_GSS = 2;
const CLIENT_OK = 4;
const SERVER_OK = 8;

/** Largest message accepted while classifying; real messages are far smaller than the 1 GB limit. */
const MAX_MESSAGE = 1 << 26;

/** Types whose bodies may be long enough to span segments (frontend / backend "Message Formats"). */
const CLIENT_LONG: readonly number[] = [0x51, 0x50, 0x42, 0x64, 0x70, 0x46];
const SERVER_LONG: readonly number[] = [0x54, 0x44, 0x64, 0x45, 0x4e, 0x43, 0x41, 0x56, 0x52];

/** Walk results. */
const BAD = -1;
const READY = -2;

/**
 * Checks one typed message whose body b[s .. s+n) is complete. Fixed sizes and terminators are from
 * "Message Formats". Returns false for anything the spec does not allow.
 */
function frontend(t: number, b: Uint8Array, s: number, n: number): boolean {
  const last = n > 0 ? b[s + n - 1] : -1;
  switch (t) {
    case 0x53: case 0x58: case 0x48: case 0x63: // Sync, Terminate, Flush, CopyDone: Int32(4) only
      return n === 0;
    case 0x51: // Query: String
    case 0x66: // CopyFail: String
      return n >= 1 && last === 0;
    case 0x44: case 0x43: // Describe / Close: Byte1('S' or 'P'), String
      return n >= 2 && (b[s] === 0x53 || b[s] === 0x50) && last === 0;
    case 0x45: // Execute: String portal, Int32 max rows
      return n >= 5 && b[s + n - 5] === 0 && indexOf(b, s, s + n, 0) === s + n - 5;
    case 0x50: // Parse: String name, String query, Int16 count, Int32[count]
    case 0x42: // Bind: String portal, String statement, ...
      return n >= 4 && indexOf(b, s, s + n, 0) >= 0;
    case 0x70: case 0x64: case 0x46: // PasswordMessage / SASL*, CopyData, FunctionCall
      return n >= 1;
    default:
      return false;
  }
}

function backend(t: number, b: Uint8Array, s: number, n: number): boolean {
  const last = n > 0 ? b[s + n - 1] : -1;
  switch (t) {
    case 0x52: { // Authentication*: Int32 code; Ok (0) has no body, MD5 (5) a 4-byte salt
      if (n < 4) return false;
      const code = u32be(b, s);
      if (code === 0 || code === 2 || code === 3 || code === 7 || code === 9) return n === 4;
      if (code === 5) return n === 8;
      return code === 8 || code === 10 || code === 11 || code === 12;
    }
    case 0x5a: // ReadyForQuery: Byte1 'I' | 'T' | 'E'
      return n === 1 && (b[s] === 0x49 || b[s] === 0x54 || b[s] === 0x45);
    case 0x4b: // BackendKeyData: Int32 pid, secret key (4 bytes in 3.0, up to 256 in 3.2)
      return n >= 8 && n <= 260;
    case 0x53: // ParameterStatus: String name, String value
      return n >= 2 && last === 0 && isPrintable(b, s, indexOf(b, s, s + n, 0) - s);
    case 0x43: case 0x45: case 0x4e: // CommandComplete, ErrorResponse, NoticeResponse: NUL-ended
      return n >= 1 && last === 0;
    case 0x31: case 0x32: case 0x33: case 0x6e: case 0x49: case 0x63: // ParseComplete … CopyDone
      return n === 0;
    case 0x54: case 0x44: case 0x74: // RowDescription, DataRow, ParameterDescription: Int16 count …
      return n >= 2;
    case 0x47: case 0x48: case 0x57: // CopyIn/Out/BothResponse: Int8 format, Int16 count …
      return n >= 3 && b[s] <= 1;
    case 0x73: // PortalSuspended
      return n === 0;
    case 0x64: case 0x41: case 0x56: // CopyData, NotificationResponse, FunctionCallResponse
      return n >= 1;
    default:
      return false;
  }
}

/**
 * Walks a payload as a run of typed messages: Byte1 type, Int32 length including itself. Only the
 * last message may run past the payload (its type and length are still checked). Returns the number
 * of complete messages, READY when the payload ends with a complete ReadyForQuery, or BAD.
 */
function walk(b: Uint8Array, off: number, len: number, fromClient: boolean): number {
  const end = off + len;
  let p = off;
  let count = 0;
  let lastType = 0;
  while (p < end) {
    if (end - p < 5) return BAD;
    const t = b[p];
    const n = u32be(b, p + 1);
    if (n < 4 || n > MAX_MESSAGE) return BAD;
    if (p + 1 + n > end) {
      // A message split across segments: only a type with a variable-length body can be.
      return (fromClient ? CLIENT_LONG : SERVER_LONG).includes(t) ? count : BAD;
    }
    if (!(fromClient ? frontend(t, b, p + 5, n - 4) : backend(t, b, p + 5, n - 4))) return BAD;
    count++;
    lastType = t;
    p += 1 + n;
  }
  return !fromClient && lastType === 0x5a ? READY : count;
}

/** "StartupMessage": key/value Strings ending in one extra NUL; "user" is required. */
function startup(flow: DpiFlow, b: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  if (b[end - 1] !== 0) return false;
  let p = off + 8;
  let user = -1;
  let userLen = 0;
  let db = -1;
  let dbLen = 0;
  while (p < end - 1) {
    const k = indexOf(b, p, end, 0);
    if (k <= p || !isPrintable(b, p, k - p)) return false;
    const v = indexOf(b, k + 1, end, 0);
    if (v < 0 || v === end - 1 || !isPrintable(b, k + 1, v - k - 1)) return false;
    if (equalsUpper(b, p, k - p, 'USER')) { user = k + 1; userLen = v - k - 1; }
    if (equalsUpper(b, p, k - p, 'DATABASE')) { db = k + 1; dbLen = v - k - 1; }
    p = v + 1;
  }
  if (user < 0 || p !== end - 1) return false;
  flow.meta.detail = db < 0 ? `user=${latin1(b, user, userLen)}` : `user=${latin1(b, user, userLen)} database=${latin1(b, db, dbLen)}`;
  return true;
}

/** ParameterStatus name (with its NUL) that carries the server's version. */
const SERVER_VERSION = 'SERVER_VERSION\0';
/** Payloads after the match within which the startup parameters and server version are looked for. */
const FOLLOW_PACKETS = 12;

/**
 * "ParameterStatus" ('S', String name, String value) named server_version, reported by the backend
 * after authentication ("Message Flow", Start-up): copied into meta.banner.
 */
function serverVersion(flow: DpiFlow, b: Uint8Array, off: number, len: number): void {
  const end = off + len;
  for (let p = off; p + 5 <= end; ) {
    const n = u32be(b, p + 1);
    if (n < 4 || p + 1 + n > end) return;
    const s = p + 5;
    if (b[p] === 0x53 && equalsUpper(b, s, SERVER_VERSION.length, SERVER_VERSION)) {
      const v = s + SERVER_VERSION.length;
      const nul = indexOf(b, v, p + 1 + n, 0);
      if (nul > v && isPrintable(b, v, nul - v)) flow.meta.banner = `PostgreSQL ${latin1(b, v, nul - v)}`;
      return;
    }
    p += 1 + n;
  }
}

const parser = {
  app: App.PostgreSQL,
  name: 'postgresql',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = (flow.state[this.slot] as number | undefined) ?? 0;
    if (st === AWAIT_SSL || st === AWAIT_GSS) {
      // "SSLRequest": the server answers a single byte 'S' or 'N'; "GSSENCRequest": 'G' or 'N'.
      if (fromClient) return NO_MATCH;
      const c = b[off];
      return len === 1 && (c === 0x4e || c === (st === AWAIT_SSL ? 0x53 : 0x47)) ? MATCH : NO_MATCH;
    }
    if (fromClient && flow.clientPackets === 1 && st === 0 && len >= 8 && u32be(b, off) === len) {
      const code = u32be(b, off + 4);
      if (code >>> 16 === PROTO_3 && (code & 0xffff) <= MAX_MINOR) return startup(flow, b, off, len) ? MATCH : NO_MATCH;
      if (len === 8 && code === SSL_REQUEST) { flow.state[this.slot] = AWAIT_SSL; return CONTINUE; }
      if (len === 8 && code === GSSENC_REQUEST) { flow.state[this.slot] = AWAIT_GSS; return CONTINUE; }
      // "CancelRequest": Int32(16), Int32(80877102), Int32 process id, Int32 secret key.
      if (len === 16 && code === CANCEL_REQUEST) return MATCH;
    }
    const r = walk(b, off, len, fromClient);
    if (r === BAD) return NO_MATCH;
    if (r === READY) return MATCH;
    if (r === 0) return CONTINUE;
    const seen = st | (fromClient ? CLIENT_OK : SERVER_OK);
    flow.state[this.slot] = seen;
    return (seen & (CLIENT_OK | SERVER_OK)) === (CLIENT_OK | SERVER_OK) ? MATCH : CONTINUE;
  },
  /**
   * After an SSLRequest or GSSENCRequest answered 'N' the StartupMessage follows in clear text;
   * either way the backend announces its version once authentication succeeds.
   */
  follow(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    if (fromClient) {
      if (flow.meta.detail === undefined && len >= 8 && u32be(b, off) === len && u32be(b, off + 4) >>> 16 === PROTO_3) {
        startup(flow, b, off, len);
      }
    } else {
      serverVersion(flow, b, off, len);
    }
    return flow.meta.banner === undefined && flow.clientPackets + flow.serverPackets < FOLLOW_PACKETS;
  },
};

export default parser satisfies DpiParser;
