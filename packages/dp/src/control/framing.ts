/**
 * Length-prefixed frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. A frame
 * longer than MAX_FRAME is refused before it is buffered, so a peer cannot make the DP hold
 * unbounded memory.
 */
import { DpError } from '../errors.js';

export const MAX_FRAME = 16 << 20;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

export class FrameError extends DpError {
  constructor(message: string) {
    super('MSEG_ERR_DP_FRAME', message);
  }
}

/** Accumulates stream chunks and yields complete frame bodies. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Returns the complete frames now available; throws FrameError on a frame over the limit. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > MAX_FRAME) throw new FrameError(`frame of ${len} bytes exceeds the ${MAX_FRAME}-byte limit`);
      if (this.buffered < 4 + len) break;
      const all = this.take(4 + len);
      frames.push(all.subarray(4));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
