/**
 * Calls into a worker thread of this package and their answers: the store's SQLite threads
 * (sqlite-worker.ts, ingest/writer-worker.ts) are driven through it. The thread starts at the
 * first call; if it dies, the calls it held fail and the next call starts a new one. An error
 * thrown in the thread comes back as an Error with its message and SQLite code. The thread keeps
 * the process alive only while it has calls to answer or is closing, as a socket with a request in
 * flight does: a store left open must not stop a process (a test worker, a CLI command) from
 * ending, and a call in flight must not be cut short.
 */
import { parentPort, Worker } from 'node:worker_threads';

interface Pending<R> {
  resolve(r: R): void;
  reject(err: Error): void;
}

type Reply<R> = { id: number; result: R } | { id: number; error: { message: string; code?: string } };

export class ThreadRpc<Q, R> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending<R>>();
  private nextId = 1;

  constructor(
    private readonly file: string,
    private readonly data: unknown,
  ) {}

  call(request: Q, transfer: ArrayBuffer[] = []): Promise<R> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, request }, transfer);
    });
  }

  /** Lets the thread finish what it was asked, then stops it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(this.file, { workerData: this.data });
    worker.unref();
    worker.on('message', (m: Reply<R>) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0 && this.worker === worker) worker.unref();
      if ('result' in m) p.resolve(m.result);
      else p.reject(Object.assign(new Error(m.error.message), m.error.code === undefined ? {} : { code: m.error.code }));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`worker thread ${this.file} exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}

/**
 * The thread's side: answers each call with `handle`'s result (or error); on close, runs
 * `close` and lets the thread end.
 */
export function serveCalls<Q, R>(handle: (request: Q) => R | Promise<R>, close: () => void | Promise<void>): void {
  const port = parentPort;
  if (!port) throw new Error('serveCalls: not in a worker thread');
  port.on('message', (m: { id: number; request: Q } | { close: true }) => {
    if ('close' in m) {
      void Promise.resolve(close()).finally(() => port.close());
      return;
    }
    let answer: Promise<R>;
    try {
      answer = Promise.resolve(handle(m.request));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (result) => port.postMessage({ id: m.id, result }),
      (err: unknown) => {
        const e = err as { message?: unknown; code?: unknown };
        port.postMessage({ id: m.id, error: { message: String(e?.message ?? err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) } });
      },
    );
  });
}
