/**
 * SSH: both sides open with an identification string (RFC 4253 §4.2):
 *
 *   SSH-protoversion-softwareversion SP comments CR LF
 *
 * Either side may speak first, so either first payload can claim the session. The server's
 * string becomes `meta.banner` (it names the product the workload runs); the client's is used
 * until the server's arrives. A protocol version 1.x other than 1.99 is SSH-1 only (RFC 4253 §5.1:
 * "1.99" means a server that also speaks 2.0) and reported as Threat.SSH_V1.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { Threat } from '../../threat/catalog.js';

/** RFC 4253 §4.2: "The maximum length of the string is 255 characters, including the CR and LF." */
const MAX_LINE = 255;

const DASH = 0x2d;
const DOT = 0x2e;
const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** "SSH-" */
const MAGIC = Uint8Array.of(0x53, 0x53, 0x48, DASH);

/** Results of `scanIdent` other than a line length. */
const IDENT_PARTIAL = -1;
const IDENT_BAD = -2;

/** Version classes found by `scanIdent` (written to `lastVersion`). */
const V2 = 2;
const V1_ONLY = 1;

/** Scratch output of `scanIdent`, valid until the next call (single-threaded, no allocation). */
let lastVersion = 0;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Checks an identification string at d[off..off+len). Returns the line length without CR LF when
 * a whole valid line is present, IDENT_PARTIAL when the bytes are a valid beginning of one, else
 * IDENT_BAD. Sets `lastVersion`.
 */
function scanIdent(d: Uint8Array, off: number, len: number): number {
  const end = off + (len < MAX_LINE ? len : MAX_LINE);
  for (let i = 0; i < 4; i++) {
    if (off + i >= end) return IDENT_PARTIAL;
    if (d[off + i] !== MAGIC[i]) return IDENT_BAD;
  }
  // protoversion: digits '.' digits (RFC 4253 §4.2: printable US-ASCII without whitespace or '-';
  // every version ever assigned is numeric: 1.3, 1.5, 1.99, 2.0).
  let p = off + 4;
  const major = p;
  while (p < end && isDigit(d[p])) p++;
  if (p === end) return IDENT_PARTIAL;
  if (p === major || p - major > 3 || d[p] !== DOT) return IDENT_BAD;
  const majorLen = p - major;
  p++;
  const minor = p;
  while (p < end && isDigit(d[p])) p++;
  if (p === end) return IDENT_PARTIAL;
  if (p === minor || p - minor > 3 || d[p] !== DASH) return IDENT_BAD;
  const minorLen = p - minor;
  if (majorLen === 1 && d[major] === 0x32) lastVersion = V2;
  else if (majorLen === 1 && d[major] === 0x31) {
    // "1.99" announces 2.0 compatibility (RFC 4253 §5.1); any other 1.x is SSH-1 only.
    lastVersion = minorLen === 2 && d[minor] === 0x39 && d[minor + 1] === 0x39 ? V2 : V1_ONLY;
  } else return IDENT_BAD;
  p++;
  // softwareversion: at least one printable character. Real implementations put '-' in it
  // (e.g. libssh), so only whitespace and control bytes end it.
  const sw = p;
  while (p < end && d[p] > SP && d[p] < 0x7f) p++;
  if (p === end) return IDENT_PARTIAL;
  if (p === sw) return IDENT_BAD;
  // Optional SP comments, then CR LF; RFC 4253 §4.2 also tolerates a bare LF from old software.
  if (d[p] === SP) {
    p++;
    while (p < end && d[p] >= SP && d[p] < 0x7f) p++;
    if (p === end) return IDENT_PARTIAL;
  }
  if (d[p] === LF) return p - off;
  if (d[p] !== CR) return IDENT_BAD;
  if (p + 1 === end) return IDENT_PARTIAL;
  return d[p + 1] === LF ? p - off : IDENT_BAD;
}

function latin1(d: Uint8Array, off: number, n: number): string {
  return String.fromCharCode.apply(null, d.subarray(off, off + n) as unknown as number[]);
}

/** Records a complete identification line found by `scanIdent`. */
function accept(flow: DpiFlow, d: Uint8Array, off: number, lineLen: number, fromClient: boolean): void {
  if (!fromClient || flow.meta.banner === undefined) flow.meta.banner = latin1(d, off, lineLen);
  if (lastVersion === V1_ONLY) {
    flow.threat(Threat.SSH_V1, `${fromClient ? 'client' : 'server'} announced ${latin1(d, off, lineLen)}`);
  }
}

const ssh: DpiParser & { slot: number } = {
  app: App.SSH,
  name: 'ssh',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const n = scanIdent(data, off, len);
    // A strict prefix may be completed by the next segment only if this was the whole payload.
    if (n === IDENT_PARTIAL) return len < MAX_LINE ? CONTINUE : NO_MATCH;
    if (n === IDENT_BAD) return NO_MATCH;
    accept(flow, data, off, n, fromClient);
    return MATCH;
  },

  /** Picks up the other side's identification string, which is its first payload. */
  follow(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    if ((fromClient ? flow.clientPackets : flow.serverPackets) === 1) {
      const n = scanIdent(data, off, len);
      if (n >= 0) accept(flow, data, off, n, fromClient);
    }
    return flow.clientPackets === 0 || flow.serverPackets === 0;
  },
};

export default ssh;
