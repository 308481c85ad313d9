/**
 * Memcached text and binary protocols (memcached "protocol.txt" and "BinaryProtocolRevamped").
 * Text: a command line with the syntax protocol.txt gives it, answered by one of the documented
 * reply lines. Binary: a 24-byte request header (magic 0x80) answered by a response header (magic
 * 0x81) with the same opcode and opaque. Either direction may be seen first.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { equalsUpper, indexOf, latin1, u16be, u32be } from './binread.js';

/** flow.state for the text protocol: bits of the valid command / reply seen. */
const COMMAND = 1;
const REPLY = 2;
/** flow.state for the binary protocol: BINARY + (opcode << 32 | opaque) of the pending request. */
const BINARY = 2 ** 40;

const MAX_KEY = 250;
/** Largest binary body accepted while classifying: the default item size limit (1 MiB) plus headroom. */
const MAX_BINARY_BODY = 2 * 1024 * 1024;
const MAX_LINE = 2048;

/** Token kinds for command syntax: key (any token without whitespace or controls), unsigned number, signed number (exptime). */
const KEY = 0x6b; // k
const NUM = 0x6e; // n
const INT = 0x69; // i

interface Syntax {
  readonly name: string;
  /** Fixed arguments, one kind letter each. */
  readonly args: string;
  /** Whether more tokens (keys, meta flags, free text) may follow; otherwise only "noreply". */
  readonly more: boolean;
}

/** "Commands" in protocol.txt (storage, retrieval, deletion, incr/decr, touch, gat, stats, meta). */
const SYNTAX: readonly Syntax[] = [
  { name: 'get', args: 'k', more: true }, { name: 'gets', args: 'k', more: true },
  { name: 'gat', args: 'ik', more: true }, { name: 'gats', args: 'ik', more: true },
  { name: 'set', args: 'knin', more: false }, { name: 'add', args: 'knin', more: false },
  { name: 'replace', args: 'knin', more: false }, { name: 'append', args: 'knin', more: false },
  { name: 'prepend', args: 'knin', more: false }, { name: 'cas', args: 'kninn', more: false },
  { name: 'delete', args: 'k', more: false }, { name: 'incr', args: 'kn', more: false },
  { name: 'decr', args: 'kn', more: false }, { name: 'touch', args: 'ki', more: false },
  { name: 'stats', args: '', more: true }, { name: 'version', args: '', more: false },
  { name: 'flush_all', args: '', more: true }, { name: 'verbosity', args: 'n', more: false },
  { name: 'mg', args: 'k', more: true }, { name: 'ms', args: 'kn', more: true }, { name: 'md', args: 'k', more: true },
  { name: 'ma', args: 'k', more: true }, { name: 'mn', args: '', more: false },
];

/** Reply lines (protocol.txt, per command's "the server responds with"), same notation. */
const REPLIES: readonly Syntax[] = [
  { name: 'VALUE', args: 'knn', more: true }, { name: 'END', args: '', more: false }, { name: 'STORED', args: '', more: false },
  { name: 'NOT_STORED', args: '', more: false }, { name: 'EXISTS', args: '', more: false }, { name: 'NOT_FOUND', args: '', more: false },
  { name: 'DELETED', args: '', more: false }, { name: 'TOUCHED', args: '', more: false }, { name: 'OK', args: '', more: false },
  { name: 'ERROR', args: '', more: false }, { name: 'CLIENT_ERROR', args: '', more: true },
  { name: 'SERVER_ERROR', args: '', more: true }, { name: 'STAT', args: 'k', more: true }, { name: 'VERSION', args: 'k', more: false },
  { name: 'HD', args: '', more: true }, { name: 'VA', args: 'n', more: true }, { name: 'EN', args: '', more: false },
  { name: 'NS', args: '', more: true }, { name: 'EX', args: '', more: true }, { name: 'NF', args: '', more: true },
  { name: 'MN', args: '', more: false },
];

function tokenOk(kind: number, b: Uint8Array, s: number, e: number): boolean {
  if (e - s > MAX_KEY) return false;
  let i = s;
  if (kind === INT && b[i] === 0x2d) i++;
  if (kind === NUM || kind === INT) {
    if (i === e) return false;
    for (; i < e; i++) if (b[i] < 0x30 || b[i] > 0x39) return false;
    return true;
  }
  // Keys: "a key ... must not include control characters or whitespace".
  for (; i < e; i++) if (b[i] <= 0x20 || b[i] === 0x7f) return false;
  return true;
}

/**
 * Checks the first line b[off .. CRLF) against a table of syntaxes; keywords are case-sensitive
 * (protocol.txt spells commands in lower case and replies in upper case). Returns the index or -1.
 */
function line(table: readonly Syntax[], b: Uint8Array, off: number, len: number): number {
  const end = off + len;
  const cr = indexOf(b, off, Math.min(end, off + MAX_LINE), 0x0d);
  if (cr <= off || cr + 1 >= end || b[cr + 1] !== 0x0a) return -1;
  let s = off;
  while (s < cr && b[s] !== 0x20) s++;
  let which = -1;
  for (let i = 0; i < table.length && which < 0; i++) {
    const name = table[i].name;
    if (s - off !== name.length) continue;
    let same = true;
    for (let j = 0; j < name.length && same; j++) same = b[off + j] === name.charCodeAt(j);
    if (same) which = i;
  }
  if (which < 0) return -1;
  const syn = table[which];
  let argc = 0;
  let extra = 0;
  let p = s;
  while (p < cr) {
    if (b[p] !== 0x20) return -1;
    const t = p + 1;
    let e = t;
    while (e < cr && b[e] !== 0x20) e++;
    if (e === t) return -1;
    if (argc < syn.args.length) {
      if (!tokenOk(syn.args.charCodeAt(argc), b, t, e)) return -1;
      argc++;
    } else if (syn.more) {
      if (!tokenOk(KEY, b, t, e)) return -1;
    } else if (extra++ > 0 || !equalsUpper(b, t, e - t, 'NOREPLY') && !(e - t === 1 && b[t] === 0x30)) {
      return -1;
    }
    p = e;
  }
  return argc === syn.args.length ? which : -1;
}

/** A whole line of digits: the reply to incr/decr. */
function counter(b: Uint8Array, off: number, len: number): boolean {
  const cr = indexOf(b, off, Math.min(off + len, off + 22), 0x0d);
  return cr > off && cr + 1 < off + len && b[cr + 1] === 0x0a && tokenOk(NUM, b, off, cr);
}

/**
 * "Packet Structure" (binary): magic, opcode, key length, extras length, data type (0x00 raw
 * bytes), vbucket/status, total body length, opaque, CAS. Returns opcode << 32 | opaque, or -1.
 */
function binaryHeader(b: Uint8Array, off: number, len: number, magic: number): number {
  if (len < 24 || b[off] !== magic || b[off + 5] !== 0) return -1;
  const body = u32be(b, off + 8);
  const keyLen = u16be(b, off + 2);
  const extLen = b[off + 4];
  if (keyLen + extLen > body || body > MAX_BINARY_BODY) return -1;
  if (magic === 0x80 && 24 + body !== len) return -1;
  return b[off + 1] * 2 ** 32 + u32be(b, off + 12);
}

/** "STAT version x.y.z" or "VERSION x.y.z" → meta.banner. */
function keepVersion(flow: DpiFlow, b: Uint8Array, off: number, len: number): void {
  const end = off + len;
  for (let p = off; p < end; ) {
    const cr = indexOf(b, p, end, 0x0d);
    if (cr < 0) return;
    const s = equalsUpper(b, p, 8, 'VERSION ') ? p + 8 : equalsUpper(b, p, 13, 'STAT VERSION ') ? p + 13 : -1;
    if (s > 0 && cr - s <= 64) {
      flow.meta.banner = latin1(b, s, cr - s);
      return;
    }
    p = cr + 2;
  }
}

const parser = {
  app: App.Memcached,
  name: 'memcached',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = (flow.state[this.slot] as number | undefined) ?? 0;
    if (st >= BINARY) {
      if (fromClient) return CONTINUE;
      return binaryHeader(b, off, len, 0x81) === st - BINARY ? MATCH : NO_MATCH;
    }
    if (fromClient) {
      if (st === 0 && b[off] === 0x80) {
        const id = binaryHeader(b, off, len, 0x80);
        if (id < 0) return NO_MATCH;
        flow.state[this.slot] = BINARY + id;
        return CONTINUE;
      }
      if (line(SYNTAX, b, off, len) < 0) return NO_MATCH;
      if (st & REPLY) return MATCH;
      flow.state[this.slot] = st | COMMAND;
      return CONTINUE;
    }
    if (line(REPLIES, b, off, len) < 0 && !counter(b, off, len)) return NO_MATCH;
    if (!(st & COMMAND)) {
      flow.state[this.slot] = st | REPLY;
      return CONTINUE;
    }
    keepVersion(flow, b, off, len);
    return MATCH;
  },
};

export default parser satisfies DpiParser;
