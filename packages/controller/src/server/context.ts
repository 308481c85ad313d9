/**
 * What every part of the controller is handed: the store, the event bus, configuration, a clock
 * and a logger. Route plugins, the gRPC service and ingest take a Context instead of globals, so
 * tests build one per case.
 */
import type { EventBus } from '../events/bus.js';
import type { Store } from '../store/db.js';

export interface ControllerOptions {
  dataDir: string;
  apiPort: number;
  grpcPort: number;
  /** Serve REST over plain HTTP (local tooling and tests). */
  noTls: boolean;
  /** Store URL: undefined = SQLite file in dataDir; postgres://… = PostgreSQL. */
  db?: string;
  /** Address to bind both listeners to. */
  host: string;
  tlsCert?: string;
  tlsKey?: string;
}

export interface Context {
  store: Store;
  events: EventBus;
  options: ControllerOptions;
  now(): number;
  log(message: string): void;
}
