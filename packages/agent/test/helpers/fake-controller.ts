/**
 * A controller for agent tests: an in-process AgentService over real gRPC (h2c on loopback) that
 * records every call and can refuse credentials, fail a call once, push policy messages and end
 * watch streams on demand.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { AgentService, type WatchPolicyResponseSchema } from '@mseg/proto';

export type Call = { method: string; auth: string; req: Record<string, unknown> };

/** A controller that records calls; tests set `fail`, push policy messages and end streams. */
export class FakeController {
  calls: Call[] = [];
  credentialSeq = 0;
  validCredentials = new Set<string>();
  /** Method name → error to answer with once, after recording the call. */
  failOnce = new Map<string, ConnectError>();
  private streams = new Set<{ push: (m: MessageInitShape<typeof WatchPolicyResponseSchema>) => void; end: () => void }>();
  server!: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  port = 0;

  of(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  private record(method: string, req: object, ctx: HandlerContext): void {
    const auth = ctx.requestHeader.get('authorization') ?? '';
    this.calls.push({ method, auth, req: req as Record<string, unknown> });
    const fail = this.failOnce.get(method);
    if (fail) {
      this.failOnce.delete(method);
      throw fail;
    }
    if (method !== 'register' && !this.validCredentials.has(auth)) throw new ConnectError('bad credential', Code.Unauthenticated);
  }

  pushPolicy(m: MessageInitShape<typeof WatchPolicyResponseSchema>): void {
    for (const s of this.streams) s.push(m);
  }

  endStreams(): void {
    for (const s of this.streams) s.end();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    const handler = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      routes: (router) =>
        router.service(AgentService, {
          register: async (req, ctx) => {
            this.record('register', req, ctx);
            const agentId = req.previousAgentId || 'agent-1';
            const credential = `cred${++this.credentialSeq}`;
            this.validCredentials.add(`Bearer ${agentId}.${credential}`);
            return { agentId, credential, reportIntervalSeconds: 1 };
          },
          heartbeat: async (req, ctx) => (this.record('heartbeat', req, ctx), { reportIntervalSeconds: 1 }),
          reportWorkloads: async (req, ctx) => (this.record('reportWorkloads', req, ctx), { changed: 0 }),
          reportConnections: async (req, ctx) => (this.record('reportConnections', req, ctx), {}),
          reportThreats: async (req, ctx) => (this.record('reportThreats', req, ctx), {}),
          reportViolations: async (req, ctx) => (this.record('reportViolations', req, ctx), {}),
          watchPolicy: (req, ctx) => this.watch(req, ctx),
        }),
    });
    this.server = http2.createServer(handler);
    this.server.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async *watch(req: object, ctx: HandlerContext): AsyncGenerator<MessageInitShape<typeof WatchPolicyResponseSchema>> {
    this.record('watchPolicy', req, ctx);
    const queue: MessageInitShape<typeof WatchPolicyResponseSchema>[] = [];
    let ended = false;
    let wake: (() => void) | null = null;
    const stream = {
      push: (m: MessageInitShape<typeof WatchPolicyResponseSchema>) => (queue.push(m), wake?.()),
      end: () => ((ended = true), wake?.()),
    };
    this.streams.add(stream);
    try {
      while (!ctx.signal.aborted) {
        while (queue.length) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((r) => {
          wake = r;
          ctx.signal.addEventListener('abort', () => r(), { once: true });
        });
      }
    } finally {
      this.streams.delete(stream);
    }
  }

  close(): Promise<void> {
    this.endStreams();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    // Clients keep their connection open; close it so the server can finish closing.
    for (const session of this.sessions) session.close();
    return closed;
  }
}
