/**
 * The event loop's handle on the SQLite store's ingest writer thread (ingest/writer-worker.ts):
 * hands it a report's op log and resolves when the transaction that wrote it committed. The
 * thread starts with the first report (a store that never ingests, as in most tests and tools,
 * has none).
 */
import type { EncodedOps } from '../ingest/oplog.js';
import { ThreadRpc } from './thread-rpc.js';
import { workerFile } from './worker-file.js';

export class IngestWriter {
  private readonly thread: ThreadRpc<EncodedOps, null>;

  constructor(file: string) {
    this.thread = new ThreadRpc(workerFile('../ingest/writer-worker.js', import.meta.url), { file });
  }

  async submit(ops: EncodedOps): Promise<void> {
    await this.thread.call(ops, [ops.numbers.buffer as ArrayBuffer]);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
