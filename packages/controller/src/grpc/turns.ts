/**
 * One report's ingest per event-loop turn. Reports come in bursts (a group commit acknowledges a
 * few hundred at once and their agents send the next ones together), and decoding, resolving and
 * encoding a burst is hundreds of milliseconds of event-loop work; run as the requests arrive,
 * a REST request that came in meanwhile waited for all of it. Taken in turns (setImmediate between
 * them), I/O is polled between two reports, so a UI request waits for one report at most.
 */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private pumping = false;

  /** Resolves at the caller's turn: continue synchronously (and in microtasks) from there. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.pumping) {
        this.pumping = true;
        setImmediate(this.pump);
      }
    });
  }

  private readonly pump = (): void => {
    const turn = this.waiting.shift();
    if (!turn) {
      this.pumping = false;
      return;
    }
    turn();
    setImmediate(this.pump);
  };
}
