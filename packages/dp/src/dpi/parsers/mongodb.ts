/**
 * MongoDB wire protocol (MongoDB manual, "MongoDB Wire Protocol"; BSON spec bsonspec.org 1.1).
 * Every message starts with a 16-byte little-endian header: messageLength, requestID, responseTo,
 * opCode. A whole OP_MSG, OP_QUERY or OP_REPLY whose BSON documents walk cleanly is recognised
 * on its own; any other request is recognised when the response's responseTo names its requestID.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { i32le, indexOf, isPrintable, u32le } from './binread.js';

/** "Opcodes". */
const OP_REPLY = 1;
const OP_UPDATE = 2001;
const OP_INSERT = 2002;
const OP_QUERY = 2004;
const OP_GET_MORE = 2005;
const OP_DELETE = 2006;
const OP_KILL_CURSORS = 2007;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;

const HEADER = 16;
/** "maxMessageSizeBytes" default is 48,000,000. */
const MAX_MESSAGE = 48_000_000;
/** OP_MSG "flagBits": checksumPresent (0), moreToCome (1), exhaustAllowed (16); others must be 0. */
const MSG_FLAGS = 0x00010003;
/** flow.state: the requestID (as int32) of the last request waiting for its response; undefined: none. */

/** Length of a BSON value of `type` at b[p ..) or -1 ("Specification", element production). */
function valueLength(type: number, b: Uint8Array, p: number, end: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: return 8;
    case 0x07: return 12;
    case 0x08: return p < end && b[p] <= 1 ? 1 : -1;
    case 0x06: case 0x0a: case 0x7f: case 0xff: return 0;
    case 0x10: return 4;
    case 0x13: return 16;
    case 0x02: case 0x0d: case 0x0e: case 0x0c: { // string: int32 length incl. NUL, bytes, 0x00
      if (p + 4 > end) return -1;
      const n = i32le(b, p);
      if (n < 1 || p + 4 + n > end || b[p + 3 + n] !== 0) return -1;
      return 4 + n + (type === 0x0c ? 12 : 0);
    }
    case 0x03: case 0x04: case 0x0f: { // document, array, code with scope: int32 total length
      if (p + 4 > end) return -1;
      const n = i32le(b, p);
      return n >= 5 && p + n <= end ? n : -1;
    }
    case 0x05: { // binary: int32 length, subtype, bytes
      if (p + 4 > end) return -1;
      const n = i32le(b, p);
      return n >= 0 && p + 5 + n <= end ? 5 + n : -1;
    }
    case 0x0b: { // regex: two cstrings
      const a = indexOf(b, p, end, 0);
      const c = a < 0 ? -1 : indexOf(b, a + 1, end, 0);
      return c < 0 ? -1 : c + 1 - p;
    }
    default:
      return -1;
  }
}

/** Walks one top-level BSON document at b[p ..); returns its length or -1. */
function documentLength(b: Uint8Array, p: number, end: number): number {
  if (p + 5 > end) return -1;
  const n = i32le(b, p);
  if (n < 5 || p + n > end || b[p + n - 1] !== 0) return -1;
  const last = p + n - 1;
  let q = p + 4;
  while (q < last) {
    const type = b[q];
    const name = indexOf(b, q + 1, last, 0);
    if (name < 0) return -1;
    const v = valueLength(type, b, name + 1, last);
    if (v < 0) return -1;
    q = name + 1 + v;
  }
  return q === last ? n : -1;
}

/** OP_MSG: flagBits, then sections (kind 0: one document; kind 1: size, identifier, documents). */
function opMsg(b: Uint8Array, off: number, end: number): boolean {
  const flags = u32le(b, off + HEADER);
  if ((flags & ~MSG_FLAGS) !== 0) return false;
  const stop = flags & 1 ? end - 4 : end;
  let p = off + HEADER + 4;
  if (p >= stop) return false;
  while (p < stop) {
    if (b[p] === 0) {
      const n = documentLength(b, p + 1, stop);
      if (n < 0) return false;
      p += 1 + n;
    } else if (b[p] === 1) {
      if (p + 5 > stop) return false;
      const size = i32le(b, p + 1);
      const sEnd = p + 1 + size;
      const id = indexOf(b, p + 5, Math.min(sEnd, stop), 0);
      if (size < 5 || sEnd > stop || id <= p + 5 || !isPrintable(b, p + 5, id - p - 5)) return false;
      for (let q = id + 1; q < sEnd; ) {
        const n = documentLength(b, q, sEnd);
        if (n < 0) return false;
        q += n;
      }
      p = sEnd;
    } else {
      return false;
    }
  }
  return p === stop;
}

/** OP_QUERY: flags, fullCollectionName "db.collection", numberToSkip, numberToReturn, query [, fields]. */
function opQuery(b: Uint8Array, off: number, end: number): boolean {
  // Bit 0 of the flags is reserved and bits 8+ are unused.
  if ((u32le(b, off + HEADER) & ~0xfe) !== 0) return false;
  const name = off + HEADER + 4;
  const nul = indexOf(b, name, end, 0);
  if (nul < name + 3 || !isPrintable(b, name, nul - name) || indexOf(b, name + 1, nul, 0x2e) < 0) return false;
  let p = nul + 9;
  for (let docs = 0; p < end; docs++) {
    const n = docs < 2 ? documentLength(b, p, end) : -1;
    if (n < 0) return false;
    p += n;
  }
  return p === end && p > nul + 9;
}

/**
 * OP_REPLY: responseFlags, cursorID, startingFrom, numberReturned, then that many documents. At
 * least one document is required: an empty reply is mostly zeros and proves nothing on its own.
 */
function opReply(b: Uint8Array, off: number, end: number): boolean {
  if (off + HEADER + 20 > end || (u32le(b, off + HEADER) & ~0xf) !== 0) return false;
  const count = i32le(b, off + HEADER + 16);
  let p = off + HEADER + 20;
  for (let i = 0; i < count; i++) {
    const n = documentLength(b, p, end);
    if (n < 0) return false;
    p += n;
  }
  return count >= 1 && p === end;
}

const parser = {
  app: App.MongoDB,
  name: 'mongodb',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    if (len < HEADER) return NO_MATCH;
    const size = i32le(b, off);
    const op = i32le(b, off + 12);
    if (size < HEADER + 4 || size > MAX_MESSAGE || size < len) return NO_MATCH;
    const whole = size === len;
    const end = off + len;
    if (fromClient) {
      const request = op === OP_MSG || op === OP_QUERY || op === OP_COMPRESSED || op === OP_UPDATE ||
        op === OP_INSERT || op === OP_GET_MORE || op === OP_DELETE || op === OP_KILL_CURSORS;
      if (!request) return NO_MATCH;
      if (whole && (op === OP_MSG ? opMsg(b, off, end) : op === OP_QUERY && opQuery(b, off, end))) return MATCH;
      if (whole && (op === OP_MSG || op === OP_QUERY)) return NO_MATCH;
      flow.state[this.slot] = i32le(b, off + 4);
      return CONTINUE;
    }
    if (op !== OP_REPLY && op !== OP_MSG && op !== OP_COMPRESSED) return NO_MATCH;
    if (flow.state[this.slot] === i32le(b, off + 8)) return MATCH;
    if (whole && (op === OP_MSG ? opMsg(b, off, end) : op === OP_REPLY && opReply(b, off, end))) return MATCH;
    return whole ? NO_MATCH : CONTINUE;
  },
};

export default parser satisfies DpiParser;
