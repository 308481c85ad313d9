/**
 * Starts a controller: store (migrated), event bus (bridged between replicas on PostgreSQL),
 * reserved groups, the first admin, the REST listener (HTTPS unless --no-tls) and the agents'
 * gRPC listener. `close()` stops accepting, lets requests in flight finish, then closes the store.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ensureFirstAdmin } from '../auth/users.js';
import { EventBus } from '../events/bus.js';
import { startPgBridge } from '../events/pg-bridge.js';
import { startGrpcServer } from '../grpc/server.js';
import { ensureReservedGroups } from '../policy/service-groups.js';
import { openStore } from '../store/db.js';
import { buildApp } from './app.js';
import type { Context, ControllerOptions } from './context.js';
import { loadTls } from './tls.js';

export const ADMIN_PASSWORD_FILE = 'admin-password';

export interface StartEnv {
  /** MSEG_ADMIN_PASSWORD: the first admin's password; a random one is made when absent. */
  adminPassword?: string;
  log?: (message: string) => void;
}

export interface RunningController {
  ctx: Context;
  app: FastifyInstance;
  /** e.g. https://127.0.0.1:10443 (the port actually bound when 0 was asked for). */
  apiUrl: string;
  grpcPort: number;
  close(): Promise<void>;
}

export async function startController(options: ControllerOptions, env: StartEnv = {}): Promise<RunningController> {
  const log = env.log ?? ((m: string) => console.log(m));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(options.db, options.dataDir);
  const ctx: Context = { store, events: new EventBus(), options, now: Date.now, log };
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log(`error while closing: ${(e as Error).message}`);
      }
    }
  };
  try {
    if (store.pool) {
      const bridge = await startPgBridge(ctx);
      closers.push(() => bridge.close());
    }
    await ensureReservedGroups(ctx);
    const admin = await ensureFirstAdmin(ctx, env.adminPassword);
    if (admin?.generated) {
      // Shown this once; the copy in the data dir is readable by its owner only.
      const file = join(options.dataDir, ADMIN_PASSWORD_FILE);
      writeFileSync(file, `${admin.generated}\n`, { mode: 0o600 });
      log(`first admin "${admin.username}" created with password: ${admin.generated} (also saved in ${file}, mode 0600)`);
    } else if (admin) {
      log(`first admin "${admin.username}" created with the password from MSEG_ADMIN_PASSWORD`);
    }

    const tls = options.noTls ? null : await loadTls(options);
    if (tls) log(`TLS certificate ${tls.source}: ${tls.certPath} (SHA-256 ${tls.fingerprint})`);
    const app = await buildApp(ctx, tls ? { https: { key: tls.key, cert: tls.cert } } : {});
    closers.push(() => app.close());
    await app.listen({ port: options.apiPort, host: options.host });
    const apiPort = (app.server.address() as AddressInfo).port;

    const grpc = await startGrpcServer(ctx);
    closers.push(() => grpc.close());

    const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
    const apiUrl = `${tls ? 'https' : 'http'}://${shown}:${apiPort}`;
    log(`REST API on ${apiUrl}/api/v1 (docs ${apiUrl}/api/docs); gRPC for agents on ${shown}:${grpc.port}`);
    return { ctx, app, apiUrl, grpcPort: grpc.port, close };
  } catch (e) {
    await close();
    throw e;
  }
}
