/**
 * The DP side of the control socket. One agent is expected, but any number of connections is
 * served; each frame is parsed and schema-checked, and a bad one closes only that connection
 * with the reason logged and sent back, never the DP.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeZodError } from '../policy/model.js';
import { FrameDecoder, FrameError, encodeFrame } from './framing.js';
import { agentMessageSchema, type AgentMessage, type DpMessage } from './messages.js';

export interface ControlHandlers {
  onMessage(msg: AgentMessage, reply: (m: DpMessage) => void): void;
  log(line: string): void;
}

export class ControlServer {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly handlers: ControlHandlers,
  ) {
    this.server = createServer((sock) => this.accept(sock));
  }

  listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    // A stale socket file from a previous DP would make listen() fail with EADDRINUSE.
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        chmodSync(this.path, 0o600);
        resolve();
      });
    });
  }

  /** Sends to every connected agent. */
  broadcast(m: DpMessage): void {
    if (this.clients.size === 0) return;
    const frame = encodeFrame(m);
    for (const c of this.clients) c.write(frame);
  }

  get connected(): number {
    return this.clients.size;
  }

  close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    return new Promise((resolve) => this.server.close(() => {
      rmSync(this.path, { force: true });
      resolve();
    }));
  }

  private accept(sock: Socket): void {
    this.clients.add(sock);
    const decoder = new FrameDecoder();
    const reply = (m: DpMessage): void => {
      if (!sock.destroyed) sock.write(encodeFrame(m));
    };
    const refuse = (reason: string): void => {
      this.handlers.log(`control: closing connection: ${reason}`);
      if (!sock.destroyed) sock.end(encodeFrame({ type: 'error', reason }));
      sock.destroy();
    };
    sock.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        refuse(e instanceof FrameError ? e.message : String(e));
        return;
      }
      for (const f of frames) {
        let doc: unknown;
        try {
          doc = JSON.parse(f.toString('utf8'));
        } catch {
          refuse('frame is not valid JSON');
          return;
        }
        const r = agentMessageSchema.safeParse(doc);
        if (!r.success) {
          refuse(`bad message: ${describeZodError(r.error)}`);
          return;
        }
        try {
          this.handlers.onMessage(r.data, reply);
        } catch (e) {
          refuse(`message refused: ${(e as Error).message}`);
          return;
        }
      }
    });
    sock.on('error', (e) => this.handlers.log(`control: ${e.message}`));
    sock.on('close', () => this.clients.delete(sock));
  }
}
