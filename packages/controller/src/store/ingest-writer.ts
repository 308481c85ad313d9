/**
 * The event loop's handle on the SQLite store's ingest writer thread (ingest/writer-worker.ts):
 * hands it a report's op log and resolves when the transaction that wrote it committed. The
 * thread starts with the first report (a store that never ingests, as in most tests and tools,
 * has none). If it dies, the reports it held fail (their agents resend them) and the next report
 * starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { EncodedOps } from '../ingest/oplog.js';
import { workerFile } from './worker-file.js';

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

export class IngestWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly file: string) {}

  submit(ops: EncodedOps): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ops }, [ops.numbers.buffer as ArrayBuffer]);
    });
  }

  /** Lets the thread finish what it holds, then stops it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(workerFile('../ingest/writer-worker.js', import.meta.url), { workerData: { file: this.file } });
    worker.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error === undefined) p.resolve();
      else p.reject(new Error(`ingest transaction failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`ingest writer thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}
