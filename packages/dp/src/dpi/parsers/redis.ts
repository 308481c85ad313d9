/**
 * Redis serialization protocol, RESP2 and RESP3 (redis.io "Redis serialization protocol
 * specification"). Clients send commands as arrays of bulk strings; inline commands are accepted
 * only as `PING` answered by `+PONG`. A session is recognised by a whole command array of a known
 * command that fills the payload exactly, or by a command start answered by a well-formed reply.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { equalsUpper, isPrintable, startsWith } from './binread.js';

/** flow.state bits. */
const COMMAND = 1;
const REPLY = 2;
const INLINE_PING = 4;

/** Commands a client may send first (upper-case); enough to cover real client traffic. */
const COMMANDS = [
  'PING', 'AUTH', 'HELLO', 'SELECT', 'CLIENT', 'INFO', 'COMMAND', 'CONFIG', 'CLUSTER', 'ECHO', 'QUIT',
  'GET', 'SET', 'SETEX', 'SETNX', 'GETSET', 'MGET', 'MSET', 'DEL', 'UNLINK', 'EXISTS', 'EXPIRE', 'PEXPIRE',
  'TTL', 'PTTL', 'TYPE', 'KEYS', 'SCAN', 'INCR', 'INCRBY', 'DECR', 'DECRBY', 'APPEND', 'STRLEN',
  'HGET', 'HSET', 'HMGET', 'HMSET', 'HGETALL', 'HDEL', 'HINCRBY', 'HEXISTS', 'HKEYS', 'HLEN', 'HSCAN',
  'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'LRANGE', 'LLEN', 'BLPOP', 'BRPOP', 'LREM', 'LTRIM', 'LINDEX',
  'SADD', 'SREM', 'SMEMBERS', 'SISMEMBER', 'SCARD', 'SSCAN', 'ZADD', 'ZREM', 'ZRANGE', 'ZRANGEBYSCORE',
  'ZREVRANGE', 'ZSCORE', 'ZCARD', 'ZINCRBY', 'ZSCAN', 'PUBLISH', 'SUBSCRIBE', 'PSUBSCRIBE', 'UNSUBSCRIBE',
  'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'EVAL', 'EVALSHA', 'SCRIPT', 'XADD', 'XREAD', 'XREADGROUP', 'XACK',
  'XRANGE', 'XLEN', 'XGROUP', 'FLUSHDB', 'FLUSHALL', 'DBSIZE', 'SAVE', 'BGSAVE', 'MONITOR', 'REPLCONF',
  'PSYNC', 'SYNC', 'ROLE', 'READONLY', 'WAIT', 'OBJECT', 'MEMORY', 'SLOWLOG', 'LATENCY', 'TIME', 'RENAME',
];

const MAX_ARGS = 1 << 20;
const MAX_BULK = 512 * 1024 * 1024;
const MAX_LINE = 1024;

/** Index of the CR of the first CRLF in b[o .. end), within MAX_LINE bytes, or -1. */
function crlf(b: Uint8Array, o: number, end: number): number {
  const stop = Math.min(end - 1, o + MAX_LINE);
  for (let i = o; i < stop; i++) if (b[i] === 0x0d) return b[i + 1] === 0x0a ? i : -1;
  return -1;
}

/** Decimal integer in b[o .. e), optional leading '-', at most 12 digits; NaN when malformed. */
function decimal(b: Uint8Array, o: number, e: number): number {
  const neg = o < e && b[o] === 0x2d;
  let i = neg ? o + 1 : o;
  if (i === e || e - i > 12) return NaN;
  let v = 0;
  for (; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Outcome of reading a command array. */
const BAD = 0;
const STARTED = 1;
const WHOLE = 2;

/**
 * "Sending commands to a Redis server": `*<count>\r\n` then `$<len>\r\n<bytes>\r\n` per argument.
 * The first argument must be a known command. WHOLE when the array ends exactly at the payload end.
 */
function command(b: Uint8Array, off: number, len: number): number {
  const end = off + len;
  if (b[off] !== 0x2a) return BAD;
  let e = crlf(b, off + 1, end);
  const count = e < 0 ? NaN : decimal(b, off + 1, e);
  if (!(count >= 1 && count <= MAX_ARGS)) return BAD;
  let p = e + 2;
  for (let i = 0; i < count; i++) {
    if (p >= end) return i === 0 ? BAD : STARTED;
    if (b[p] !== 0x24) return BAD;
    e = crlf(b, p + 1, end);
    if (e < 0) return i === 0 ? BAD : STARTED;
    const n = decimal(b, p + 1, e);
    if (!(n >= 0 && n <= MAX_BULK)) return BAD;
    const data = e + 2;
    if (i === 0) {
      let known = false;
      for (let k = 0; k < COMMANDS.length && !known; k++) known = equalsUpper(b, data, n, COMMANDS[k]);
      if (!known || data + n + 2 > end) return BAD;
    }
    if (data + n + 2 > end) return STARTED;
    if (b[data + n] !== 0x0d || b[data + n + 1] !== 0x0a) return BAD;
    p = data + n + 2;
  }
  return p === end ? WHOLE : BAD;
}

/**
 * One reply's first line ("RESP protocol description" type table): simple string '+', error '-',
 * integer ':', bulk '$', array '*', and the RESP3 types null '_', boolean '#', double ',', big number
 * '(', blob error '!', verbatim '=', map '%', set '~', attribute '|', push '>'.
 */
function reply(b: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  if (len < 3) return false;
  const e = crlf(b, off + 1, end);
  if (e < 0) return false;
  const s = off + 1;
  switch (b[off]) {
    case 0x2b: case 0x2d: // + -
      return e > s && isPrintable(b, s, e - s);
    case 0x3a: case 0x28: // : (
      return !Number.isNaN(decimal(b, s, e));
    case 0x24: case 0x2a: case 0x21: case 0x3d: case 0x25: case 0x7e: case 0x7c: case 0x3e: { // $ * ! = % ~ | >
      const n = decimal(b, s, e);
      return n >= -1 && n <= MAX_BULK;
    }
    case 0x5f: // _
      return e === s;
    case 0x23: // # t / f
      return e === s + 1 && (b[s] === 0x74 || b[s] === 0x66);
    case 0x2c: // ,
      return e > s && isPrintable(b, s, e - s);
    default:
      return false;
  }
}

const parser = {
  app: App.Redis,
  name: 'redis',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = (flow.state[this.slot] as number | undefined) ?? 0;
    if (!fromClient) {
      // "Inline commands": only PING, and only with its exact answer.
      if (st & INLINE_PING) return len === 7 && startsWith(b, off, off + len, '+PONG\r\n') ? MATCH : NO_MATCH;
      if (!reply(b, off, len)) return NO_MATCH;
      if (st & COMMAND) return MATCH;
      flow.state[this.slot] = st | REPLY;
      return CONTINUE;
    }
    if (len === 6 && (startsWith(b, off, off + 6, 'PING\r\n') || startsWith(b, off, off + 6, 'ping\r\n'))) {
      flow.state[this.slot] = st | INLINE_PING;
      return CONTINUE;
    }
    const c = command(b, off, len);
    if (c === BAD) return NO_MATCH;
    if (c === WHOLE || st & REPLY) return MATCH;
    flow.state[this.slot] = st | COMMAND;
    return CONTINUE;
  },
};

export default parser satisfies DpiParser;
