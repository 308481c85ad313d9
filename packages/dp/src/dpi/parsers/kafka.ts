/**
 * Apache Kafka wire protocol (kafka.apache.org "A Guide To The Kafka Protocol"). Requests are
 * `size INT32` then a request header: api_key INT16, api_version INT16, correlation_id INT32,
 * client_id NULLABLE_STRING (header v1 and v2). Responses are `size INT32` then correlation_id.
 * A whole request with a printable client id is recognised on its own; a request that spans
 * segments is recognised when a response carries its correlation id.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { i16be, isPrintable, u16be, u32be } from './binread.js';

/** Highest api_key assigned so far ("Api Keys" table) and a bound on any api's version. */
const MAX_API_KEY = 74;
const MAX_API_VERSION = 20;
/** Brokers refuse requests above socket.request.max.bytes (100 MiB by default). */
const MAX_REQUEST = 100 * 1024 * 1024;
/** "client.id" strings are short in practice; the header allows 32,767 bytes. */
const MAX_CLIENT_ID = 255;
/**
 * flow.state holds the correlation id of a request whose response is awaited (undefined: none).
 * Stored as is: clients count ids up from 0, so they stay small integers and never box.
 */

/** request_api_key and request_api_version of a request header at b[o ..). */
function apiOk(b: Uint8Array, o: number): boolean {
  return u16be(b, o) <= MAX_API_KEY && u16be(b, o + 2) <= MAX_API_VERSION;
}

const parser = {
  app: App.Kafka,
  name: 'kafka',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    if (len < 8) return NO_MATCH;
    const size = u32be(b, off);
    if (!fromClient) {
      // "Responses": size, then the correlation_id of the request they answer.
      if (size < 4 || size > MAX_REQUEST) return NO_MATCH;
      const pending = flow.state[this.slot];
      // Mid-stream the server may be seen first; the client's next request decides.
      if (pending === undefined) return CONTINUE;
      return u32be(b, off + 4) === pending ? MATCH : NO_MATCH;
    }
    if (len < 14 || size < 10 || size > MAX_REQUEST || !apiOk(b, off + 4)) return NO_MATCH;
    // client_id: INT16 length then bytes; required non-empty so zero-filled binary cannot pass.
    const idLen = i16be(b, off + 12);
    if (idLen < 1 || idLen > MAX_CLIENT_ID || 14 + idLen > size + 4 || 14 + idLen > len) return NO_MATCH;
    if (!isPrintable(b, off + 14, idLen)) return NO_MATCH;
    const next = off + 4 + size;
    const end = off + len;
    if (next === end) return MATCH;
    if (next < end) {
      // Pipelined requests: the next one must start with a plausible size and api key/version.
      return end - next >= 8 && u32be(b, next) >= 10 && u32be(b, next) <= MAX_REQUEST && apiOk(b, next + 4) ? MATCH : NO_MATCH;
    }
    flow.state[this.slot] = u32be(b, off + 8);
    return CONTINUE;
  },
};

export default parser satisfies DpiParser;
