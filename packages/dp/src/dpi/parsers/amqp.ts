/**
 * AMQP 0-9-1 (AMQP 0-9-1 specification, 4.2.2 "Protocol Header" and 4.2.3 "General Frame
 * Format") and the AMQP 1.0 protocol headers (OASIS AMQP 1.0, part 2.2 "Version Negotiation" and
 * part 5.2.1 / 5.3.1 for TLS and SASL). A session is recognised by its 8-byte protocol header, or,
 * mid-stream, by a payload made of well-formed frames that includes a known method frame.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { startsWith, u16be, u32be } from './binread.js';

/** 4.2.3: frame-end octet. Frame types: METHOD 1, HEADER 2, BODY 3, HEARTBEAT 8. */
const FRAME_END = 0xce;
const METHOD = 1;
const HEADER = 2;
const BODY = 3;
const HEARTBEAT = 8;
/** Upper bound for frame-max accepted while classifying (RabbitMQ's default is 128 KiB). */
const MAX_FRAME = 1 << 24;
/** Payloads (both directions) offered before giving up on finding a frame boundary. */
const MID_STREAM_TRIES = 4;

/**
 * Class and method ids of 0-9-1 (class << 16 | method), from the specification's class index:
 * connection 10, channel 20, exchange 40, queue 50, basic 60, confirm 85, tx 90.
 */
const METHODS: readonly number[] = [
  ...[10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 60, 61].map((m) => (10 << 16) | m),
  ...[10, 11, 20, 21, 40, 41].map((m) => (20 << 16) | m),
  ...[10, 11, 20, 21, 30, 31, 40, 51].map((m) => (40 << 16) | m),
  ...[10, 11, 20, 21, 30, 31, 40, 41, 50, 51].map((m) => (50 << 16) | m),
  ...[10, 11, 20, 21, 30, 31, 40, 50, 60, 70, 71, 72, 80, 90, 100, 110, 111, 120].map((m) => (60 << 16) | m),
  ...[10, 11].map((m) => (85 << 16) | m),
  ...[10, 11, 20, 21, 30, 31].map((m) => (90 << 16) | m),
];

/**
 * 4.2.2 and AMQP 1.0 2.2: "AMQP" then protocol id and version octets: 0-9-1 is 0,0,9,1; 1.0 is
 * id 0 (AMQP), 2 (TLS) or 3 (SASL) followed by 1,0,0.
 */
function protocolHeader(b: Uint8Array, off: number, len: number): boolean {
  if (len !== 8 || !startsWith(b, off, off + len, 'AMQP')) return false;
  const id = b[off + 4];
  const v = u32be(b, off + 4);
  return v === 0x00000901 || ((id === 0 || id === 2 || id === 3) && (v & 0xffffff) === 0x010000);
}

/**
 * Walks frames; every complete frame must be well formed and the last may continue in the next
 * segment. Returns true when at least one complete METHOD frame with a known method was seen.
 */
function frames(b: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  let p = off;
  let methods = 0;
  while (p < end) {
    if (end - p < 7) return false;
    const type = b[p];
    const channel = u16be(b, p + 1);
    const size = u32be(b, p + 3);
    if (size > MAX_FRAME) return false;
    if (type !== METHOD && type !== HEADER && type !== BODY && type !== HEARTBEAT) return false;
    // Frame header: type, channel (short), size (long); then the payload and frame-end.
    const stop = p + 7 + size;
    if (stop >= end) return methods > 0 && type !== HEARTBEAT;
    if (b[stop] !== FRAME_END) return false;
    if (type === METHOD) {
      // 4.2.4: class-id and method-id shorts.
      if (size < 4 || !METHODS.includes((u16be(b, p + 7) << 16) | u16be(b, p + 9))) return false;
      methods++;
    } else if (type === HEADER) {
      // 4.2.6: class-id, weight (must be zero), body size, property flags.
      if (size < 14 || u16be(b, p + 9) !== 0 || channel === 0) return false;
    } else if (type === HEARTBEAT && (size !== 0 || channel !== 0)) {
      return false;
    }
    p = stop + 1;
  }
  return methods > 0;
}

const parser = {
  app: App.AMQP,
  name: 'amqp',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number): Verdict {
    if (protocolHeader(b, off, len) || frames(b, off, len)) return MATCH;
    // Mid-stream, the first payloads may continue a frame begun before the capture: look a little longer.
    return flow.clientPackets + flow.serverPackets < MID_STREAM_TRIES ? CONTINUE : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
