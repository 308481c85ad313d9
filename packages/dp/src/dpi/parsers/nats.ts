/**
 * NATS client protocol (docs.nats.io "Client Protocol"). On connect the server sends
 * `INFO {json}\r\n` and the client answers `CONNECT {json}\r\n`; then text verbs follow (PUB, SUB,
 * MSG, PING, PONG, +OK, -ERR). A session is NATS when INFO is answered by CONNECT. One seen from
 * the middle is NATS when a client SUB/PUB line and a server MSG or +OK line (both with the
 * grammar the protocol gives them) meet; PING/PONG alone are left out, as other protocols use them.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, parserState, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { startsWith } from './binread.js';
import { lineEnd } from './text-reply.js';

/** Longest control line looked at (the server's max_control_line defaults to 4096). */
const MAX_LINE = 4096;
/** A subject or sid token longer than this is not one a client would use. */
const MAX_TOKEN = 256;

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

const INFO_SEEN = 1;
const CLIENT_VERB = 2;
const SERVER_VERB = 3;

class NatsState {
  phase = 0;
}

function isBlank(c: number): boolean {
  return c === SP || c === TAB;
}

/**
 * Counts the blank-separated tokens of the line from p up to its CR LF; -1 when a token is too
 * long or the line is not printable. The last token must be a number (a sid or a byte count).
 */
function tokens(b: Uint8Array, p: number, end: number): number {
  const lf = lineEnd(b, p, end, MAX_LINE);
  if (lf < 0 || b[lf - 1] !== CR) return -1;
  const stop = lf - 1;
  let n = 0;
  let i = p;
  let lastDigits = false;
  while (i < stop) {
    while (i < stop && isBlank(b[i])) i++;
    if (i === stop) break;
    const t = i;
    let digits = true;
    while (i < stop && !isBlank(b[i])) {
      if (b[i] < 0x30 || b[i] > 0x39) digits = false;
      i++;
    }
    if (i - t > MAX_TOKEN) return -1;
    lastDigits = digits;
    n++;
  }
  return lastDigits ? n : -1;
}

/** "VERB" followed by a blank, in upper case as clients send it. */
function verb(b: Uint8Array, p: number, end: number, v: string): boolean {
  return startsWith(b, p, end, v) && p + v.length < end && isBlank(b[p + v.length]);
}

/** SUB <subject> [queue group] <sid>; PUB <subject> [reply-to] <#bytes>; HPUB has two counts. */
function isClientVerb(b: Uint8Array, p: number, end: number): boolean {
  if (verb(b, p, end, 'SUB') || verb(b, p, end, 'PUB')) {
    const n = tokens(b, p + 4, end);
    return n === 2 || n === 3;
  }
  if (verb(b, p, end, 'HPUB')) {
    const n = tokens(b, p + 5, end);
    return n === 3 || n === 4;
  }
  return false;
}

/** MSG <subject> <sid> [reply-to] <#bytes>, HMSG with one count more, or +OK. */
function isServerVerb(b: Uint8Array, p: number, end: number): boolean {
  if (startsWith(b, p, end, '+OK\r\n')) return true;
  if (verb(b, p, end, 'MSG')) {
    const n = tokens(b, p + 4, end);
    return n === 3 || n === 4;
  }
  if (verb(b, p, end, 'HMSG')) {
    const n = tokens(b, p + 5, end);
    return n === 4 || n === 5;
  }
  return false;
}

const nats = {
  app: App.NATS,
  name: 'nats',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const end = off + len;
    const st = parserState(flow, this.slot, NatsState);
    if (!fromClient) {
      if (st.phase === 0 && startsWith(b, off, end, 'INFO {')) {
        st.phase = INFO_SEEN;
        return CONTINUE;
      }
      if (st.phase === INFO_SEEN) return CONTINUE;
      if (!isServerVerb(b, off, end)) return NO_MATCH;
      if (st.phase === CLIENT_VERB) return MATCH;
      st.phase = SERVER_VERB;
      return CONTINUE;
    }
    if (st.phase === INFO_SEEN) return startsWith(b, off, end, 'CONNECT {') ? MATCH : NO_MATCH;
    if (!isClientVerb(b, off, end)) return NO_MATCH;
    if (st.phase === SERVER_VERB) return MATCH;
    st.phase = CLIENT_VERB;
    return CONTINUE;
  },
};

export default nats satisfies DpiParser;
