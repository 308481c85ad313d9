// The agent's side of the DP control socket, for tests: sends framed messages, records every DP
// message with the wall-clock time it arrived, and waits for answers with a deadline.
import { connect, type Socket } from 'node:net';
import type { z } from 'zod';
import { FrameDecoder, encodeFrame } from '../../src/control/framing.js';
import type { agentMessageSchema, DpMessage } from '../../src/control/messages.js';

/** What an agent may send: the schema's input (defaults not yet applied). */
export type AgentInput = z.input<typeof agentMessageSchema>;

export interface Received {
  /** Date.now() when the frame was decoded. */
  at: number;
  msg: DpMessage;
}

export class ControlClient {
  readonly received: Received[] = [];
  /** Resolves when the DP (or close()) ends the connection. */
  readonly closed: Promise<void>;
  private readonly waiters = new Set<() => void>();
  private isClosed = false;

  private constructor(private readonly sock: Socket) {
    const decoder = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      const at = Date.now();
      for (const f of decoder.push(chunk)) this.received.push({ at, msg: JSON.parse(f.toString('utf8')) as DpMessage });
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      sock.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
    // A reset from the DP surfaces as 'close' too; without a listener it would be an uncaught error.
    sock.on('error', () => undefined);
  }

  static connect(path: string, timeoutMs = 5_000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no connection to ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new ControlClient(sock));
      });
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(m: AgentInput): void {
    this.sock.write(encodeFrame(m));
  }

  /** Writes bytes as they are, framing included: for feeding the DP bad input. */
  sendRaw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** Sends a message and waits for the DP's ack of it; rejects on an 'error' answer or a close. */
  async request(m: AgentInput, timeoutMs = 5_000): Promise<void> {
    const from = this.received.length;
    this.send(m);
    const answer = await this.waitFor(
      (r, i) => (i >= from && (r.msg.type === 'ack' || r.msg.type === 'error') ? r.msg : undefined),
      timeoutMs,
      `ack of ${m.type}`,
    );
    if (answer.type === 'error') throw new Error(`DP refused ${m.type}: ${answer.reason}`);
    if (answer.type === 'ack' && answer.of !== m.type) throw new Error(`DP acked ${answer.of}, expected ${m.type}`);
  }

  /**
   * Resolves with the first non-undefined `pick` over received messages (those already in and
   * those still to come), or rejects once `timeoutMs` passes or the connection closes first.
   */
  waitFor<T>(pick: (r: Received, index: number) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    let next = 0;
    const scan = (): T | undefined => {
      for (; next < this.received.length; next++) {
        const v = pick(this.received[next], next);
        if (v !== undefined) return v;
      }
      return undefined;
    };
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = (): void => {
        const v = scan();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.isClosed) {
          done();
          reject(new Error(`connection closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    this.sock.end();
    this.sock.destroy();
    return this.closed;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
