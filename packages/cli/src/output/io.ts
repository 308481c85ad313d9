/**
 * Where a command writes: results to `out`, progress and errors to `err`. Tests pass buffers;
 * main passes the process streams. Progress goes to stderr so `--json` output stays parseable.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress redraws one line instead of printing one per step. */
  interactive: boolean;
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
  };
}

export interface Progress {
  /** The current step; shown with the time spent so far. */
  step(text: string): void;
  done(text: string): void;
  fail(text: string): void;
}

/** Progress of a long operation on stderr: one redrawn line on a terminal, else a line per step. */
export function progress(io: Io, title: string): Progress {
  const started = Date.now();
  let last = '';
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  const show = (mark: string, text: string, final: boolean) => {
    if (io.interactive) {
      io.err(`\r\x1b[K${mark} ${title}: ${text} (${elapsed()})${final ? '\n' : ''}`);
    } else if (final || text !== last) {
      io.err(`${mark} ${title}: ${text}${final ? ` (${elapsed()})` : ''}\n`);
    }
    last = text;
  };
  return {
    step: (text) => show('…', text, false),
    done: (text) => show('✓', text, true),
    fail: (text) => show('✗', text, true),
  };
}
