/**
 * DNS over UDP and TCP (RFC 1035 §4.2). A session is DNS when a message reads as DNS throughout
 * (dns-message GOOD). A message whose header is legal (assigned opcode and RCODE) but which has
 * anomalies — damaged, fuzzed or unusual — is accepted when port 53 supports it, or when it
 * answers the query the other side sent and its question is readable. Without a legal header the
 * port never decides. After the match every later message is read for names, answers and threats.
 */
import { Threat } from '../../threat/catalog.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, UDP, parserState, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { collectAnswers } from './dns-answers.js';
import {
  BAD,
  DnsMsg,
  GOOD,
  HEADER_LEN,
  QTYPE_AXFR,
  QTYPE_IXFR,
  QTYPE_NULL,
  QTYPE_TXT,
  RrScan,
  WEAK,
  judgeMessage,
} from './dns-message.js';
import { LONG_LABEL, LONG_NAME, looksEncoded } from './dns-tunnel.js';
import { NAME_LOOP, NAME_OK, NameScan, nameText, textEquals, walkName } from './dns-wire.js';

/** Query names kept per session; a resolver's UDP session can carry thousands. */
export const MAX_NAMES = 32;
/** TXT/NULL queries with encoded-looking names in one session that make a tunnel. */
const ENCODED_TXT_QUERIES = 5;
/** Anomalies a response may have and still be DNS because it answers the client's query. */
const MAX_ANOMALIES = 3;
/** Messages judged before giving up on a session that never showed a GOOD one. */
const MAX_TRIES = 4;

/** Octets of a 32-octet first label in A-P that make it a NetBIOS name (see isNetbiosName). */
const NETBIOS_MIN_AP = 24;

const PORT_DNS = 53;
/** Multicast DNS (RFC 6762) reuses the format on UDP 5353 but is another protocol. */
const PORT_MDNS = 5353;

/** Per-session state. */
class DnsState {
  tries = 0;
  /** ID of the last readable message sent by the client, -1 before one. */
  queryId = -1;
  encodedTxt = 0;
  /** TCP (RFC 1035 §4.2.2): message octets still to come in each direction, and a lone length prefix. */
  skipC = 0;
  skipS = 0;
  pendC = -1;
  pendS = -1;
}

const m = new DnsMsg();
const s = new NameScan();
const rr = new RrScan();

/**
 * RFC 1001 §14.1 / RFC 1002 §4.1: NetBIOS names travel as one 32-octet label of the letters A-P.
 * NBNS shares DNS's header and question layout, so its names are what tells it apart; a few
 * damaged octets (fuzzed captures) do not make such a label a DNS one.
 */
function isNetbiosName(b: Uint8Array, p: number): boolean {
  if (b[p] !== 32) return false;
  let ap = 0;
  for (let i = p + 1; i <= p + 32; i++) if (b[i] >= 0x41 && b[i] <= 0x50) ap++;
  return ap >= NETBIOS_MIN_AP;
}

/** Output of `tcpMessage`: the message's announced length and how much of it this segment holds. */
let tcpLen = 0;
let tcpAvail = 0;

/**
 * Locate a message at the start of a TCP segment. Returns its offset, or -1 when this segment
 * holds none (a lone length prefix, or the rest of a message whose start was already seen).
 * A message split over segments is read from its first segment only: buffering the rest would
 * cost memory per session for what is, in practice, a zone transfer's bulk.
 */
function tcpMessage(st: DnsState, b: Uint8Array, off: number, len: number, fromClient: boolean): number {
  const skip = fromClient ? st.skipC : st.skipS;
  if (skip > 0) {
    const left = skip > len ? skip - len : 0;
    if (fromClient) st.skipC = left;
    else st.skipS = left;
    return -1;
  }
  const pend = fromClient ? st.pendC : st.pendS;
  let start = off;
  if (pend >= 0) {
    tcpLen = pend;
    if (fromClient) st.pendC = -1;
    else st.pendS = -1;
  } else {
    // RFC 1035 §4.2.2: "prefixed with a two byte length field".
    if (len < 2) return -1;
    tcpLen = (b[off] << 8) | b[off + 1];
    start = off + 2;
    if (len === 2) {
      if (fromClient) st.pendC = tcpLen;
      else st.pendS = tcpLen;
      return -1;
    }
  }
  tcpAvail = off + len - start;
  const rest = tcpLen > tcpAvail ? tcpLen - tcpAvail : 0;
  if (fromClient) st.skipC = rest;
  else st.skipS = rest;
  if (tcpAvail > tcpLen) tcpAvail = tcpLen;
  return start;
}

const dns = {
  app: App.DNS,
  name: 'dns',
  transports: TCP | UDP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = parserState(flow, this.slot, DnsState);
    let msg = off;
    let msgLen = len;
    let whole = true;
    if (flow.l4 !== 17) {
      msg = tcpMessage(st, b, off, len, fromClient);
      if (msg < 0) return st.tries < MAX_TRIES ? CONTINUE : NO_MATCH;
      // A TCP message is smaller than a header only when it is not DNS.
      if (tcpLen < HEADER_LEN) return NO_MATCH;
      msgLen = tcpAvail;
      whole = tcpAvail === tcpLen;
    }
    st.tries++;
    const grade = judgeMessage(b, msg, msgLen, whole, m, s, rr);
    if (m.nameResult === NAME_LOOP) flow.threat(Threat.DNS_LOOP_POINTER, `question name pointer at ${s.loopAt}`);
    if (m.hasQuestion && isNetbiosName(b, m.qName)) return NO_MATCH;
    // RFC 6762 §18.1: multicast queries and responses carry ID 0; a unicast DNS server on port
    // 5353 (a common non-standard port) answers resolvers that pick random IDs (RFC 5452 §4).
    if (flow.l4 === 17 && m.id === 0 && (flow.serverPort === PORT_MDNS || flow.clientPort === PORT_MDNS)) return NO_MATCH;
    // RFC 1035 §4.2: port 53 supports (never replaces) what the bytes say.
    const portHint = flow.serverPort === PORT_DNS || flow.clientPort === PORT_DNS;
    // RFC 1035 §7.3: a response carries the ID of the query it answers.
    const answersQuery = !fromClient && m.qr && m.id === st.queryId;
    if (fromClient && grade !== BAD) st.queryId = m.id;
    if (
      grade === GOOD ||
      (grade === WEAK && portHint) ||
      (grade === WEAK && answersQuery && m.hasQuestion && m.anomalies <= MAX_ANOMALIES)
    ) {
      if (m.hasQuestion) readMessage(flow, st, b, msg, msgLen);
      return MATCH;
    }
    // On port 53 a damaged message may be followed by intact ones; elsewhere give up after a few.
    return st.tries < MAX_TRIES ? CONTINUE : NO_MATCH;
  },

  follow(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    const st = parserState(flow, this.slot, DnsState);
    if (flow.l4 === 17) {
      readIfDns(flow, st, b, off, len);
      return true;
    }
    // Several messages may share a segment (pipelined queries, RFC 7766 §6.2.1.1).
    let p = off;
    const end = off + len;
    while (p < end) {
      const msg = tcpMessage(st, b, p, end - p, fromClient);
      if (msg < 0) return true;
      readIfDns(flow, st, b, msg, tcpAvail);
      p = msg + tcpAvail;
    }
    return true;
  },
};

function readIfDns(flow: DpiFlow, st: DnsState, b: Uint8Array, msg: number, len: number): void {
  judgeMessage(b, msg, len, false, m, s, rr);
  if (m.nameResult === NAME_LOOP) flow.threat(Threat.DNS_LOOP_POINTER, `question name pointer at ${s.loopAt}`);
  if (m.hasQuestion) readMessage(flow, st, b, msg, len);
}

/** Record the question, answers and threats of the message just judged (in `m`) with a readable question. */
function readMessage(flow: DpiFlow, st: DnsState, b: Uint8Array, msg: number, len: number): void {
  const end = msg + len;
  if (walkName(b, msg, end, m.qName, s, true) !== NAME_OK) return;
  const meta = flow.meta;
  const names = (meta.dnsNames ??= []);
  let qText: string | null = null;
  for (const n of names) {
    if (textEquals(s, n)) {
      qText = n;
      break;
    }
  }
  if (qText === null) {
    qText = nameText(s);
    if (names.length < MAX_NAMES) names.push(qText);
  }
  if (m.qtype === QTYPE_AXFR || m.qtype === QTYPE_IXFR) {
    flow.threat(Threat.DNS_ZONE_TRANSFER, `${m.qtype === QTYPE_AXFR ? 'AXFR' : 'IXFR'} ${qText}`);
  }
  if (!m.qr) checkTunnel(flow, st, b, msg, end);
  // RFC 1035 §4.1.1: answers of a successful response (RCODE 0) follow the question section.
  if (m.qr && m.rcode === 0 && m.an > 0 && m.qd === 1) {
    const loopAt = collectAnswers(meta, b, msg, end, m.qEnd, m.an, m.qName, qText, s);
    if (loopAt >= 0) flow.threat(Threat.DNS_LOOP_POINTER, `answer name pointer at ${loopAt}`);
  }
}

function checkTunnel(flow: DpiFlow, st: DnsState, b: Uint8Array, msg: number, end: number): void {
  const long = s.wireLen > LONG_NAME || s.maxLabel > LONG_LABEL;
  const txt = m.qtype === QTYPE_TXT || m.qtype === QTYPE_NULL;
  if (!long && !txt) return;
  if (!looksEncoded(b, msg, end, m.qName)) return;
  if (long) {
    flow.threat(Threat.DNS_TUNNELING, `encoded-looking query name of ${s.wireLen} octets`);
  } else if (++st.encodedTxt === ENCODED_TXT_QUERIES) {
    flow.threat(Threat.DNS_TUNNELING, `${ENCODED_TXT_QUERIES} TXT/NULL queries with encoded-looking names`);
  }
}

export default dns satisfies DpiParser;
