/**
 * The contract between the DPI engine and one protocol parser.
 *
 * A parser claims a session by content, never by port. The engine offers each in-order payload of a
 * session that is still being classified to every parser that has not dropped out, until one
 * answers MATCH (it wins) or all answer NO_MATCH (the session stays "unknown"). A parser that needs
 * more bytes answers CONTINUE. After a win the engine keeps calling the winner's `follow` (if any)
 * on later payloads until it returns false, so it can collect metadata and report threats.
 */
import type { FlowMeta } from './meta.js';

export const CONTINUE = 0;
export const MATCH = 1;
export const NO_MATCH = 2;
export type Verdict = typeof CONTINUE | typeof MATCH | typeof NO_MATCH;

/** Transport bitmask for `DpiParser.transports`. */
export const TCP = 1;
export const UDP = 2;

/** What a parser sees of a session. One object per session being classified; never per packet. */
export interface DpiFlow {
  /** 6 (TCP) or 17 (UDP). */
  readonly l4: number;
  /** Port of the side that opened the session (SYN sender, or first sender for UDP). */
  readonly clientPort: number;
  readonly serverPort: number;
  /** Payload-carrying packets seen so far in each direction, this one included. */
  readonly clientPackets: number;
  readonly serverPackets: number;
  /** Metadata found by DPI; parsers fill the fields that apply. */
  readonly meta: FlowMeta;
  /**
   * Per-parser private state, indexed by the parser's `slot` (given by the registry). Starts as
   * undefined; a parser stores whatever small object or number it needs there.
   */
  readonly state: unknown[];
  /** Report a threat (ids in threat/catalog.ts); the engine de-duplicates and rate-limits. */
  threat(id: number, detail: string): void;
}

export interface DpiParser {
  /** App id from apps.ts that a MATCH assigns. A parser may change `meta.app` (e.g. HTTP → WebSocket). */
  readonly app: number;
  readonly name: string;
  /** TCP | UDP bitmask. */
  readonly transports: number;
  /**
   * Called with one payload (data[off .. off+len)) of a session still being classified.
   * `fromClient` tells the direction. The bytes are a view into a reused buffer: copy what you keep.
   */
  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict;
  /** Optional: later payloads of sessions this parser won. Return false to stop being called. */
  follow?(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): boolean;
}

/** A parser's per-session state object in `flow.state[slot]`, made on first use. */
export function parserState<T>(flow: DpiFlow, slot: number, Make: new () => T): T {
  let st = flow.state[slot] as T | undefined;
  if (st === undefined) {
    st = new Make();
    flow.state[slot] = st;
  }
  return st;
}
