/**
 * The agent API: real gRPC over HTTP/2 (connect-node, gRPC protocol only) on the gRPC port.
 * Cleartext HTTP/2 (h2c) for now: agents authenticate with the join token and then a per-agent
 * credential, but the channel itself is not encrypted yet.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { REPORT_INTERVAL_SECONDS, markOfflineAgents } from '../ingest/agents.js';
import type { Context } from '../server/context.js';
import { authInterceptor, errorInterceptor } from './auth.js';
import { ensureJoinToken } from './join-token.js';
import { routeAgentService } from './service.js';

export interface GrpcServer {
  port: number;
  /** The token agents register with (from the store, or MSEG_JOIN_TOKEN). */
  joinToken: string;
  close(): Promise<void>;
}

/** Largest request accepted: a full connection batch of an agent's bounded queue. */
const READ_MAX_BYTES = 32 * 1024 * 1024;

export async function startGrpcServer(ctx: Context): Promise<GrpcServer> {
  const joinToken = await ensureJoinToken(ctx);
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: READ_MAX_BYTES,
    shutdownSignal: shutdown.signal,
    // First listed runs outermost: auth failures are mapped to gRPC codes too.
    interceptors: [errorInterceptor(ctx), authInterceptor(ctx)],
    routes: (router) => routeAgentService(router, ctx, joinToken),
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s: http2.Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.options.grpcPort, ctx.options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  // Offline detection: every interval, agents silent for MISSED_HEARTBEATS intervals go offline.
  const sweep = setInterval(() => {
    markOfflineAgents(ctx).catch((err: unknown) => ctx.log(`grpc: offline sweep failed: ${String(err)}`));
  }, REPORT_INTERVAL_SECONDS * 1000);
  sweep.unref();

  return {
    port: (server.address() as AddressInfo).port,
    joinToken,
    async close() {
      clearInterval(sweep);
      // Ends open watch streams with UNAVAILABLE so agents reconnect (to another replica).
      shutdown.abort(new ConnectError('controller shutting down', Code.Unavailable));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      await closed;
    },
  };
}
