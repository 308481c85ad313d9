/**
 * Kernel changes the agent makes with a process (nft scripts, and the once-per-agent capture
 * namespace and feature probe with ip/tc) go through one narrow interface: a command line
 * with optional stdin. Reconcilers are then testable with a fake runner that records the sequence
 * of operations, and the real runner is a thin wrapper over execFile. The taps' links and filters
 * go over netlink instead, behind the Rtnl interface (netlink/rtnl.ts).
 */
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Text written to the command's stdin (an `nft -f -` script). */
  input?: string;
}

export interface CommandRunner {
  /** Runs argv; resolves with stdout, rejects with CommandError on a non-zero exit. */
  run(argv: readonly string[], options?: RunOptions): Promise<string>;
}

export class CommandError extends Error {
  readonly code = 'MSEG_ERR_AGENT_COMMAND';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit ${exitCode}`}`);
  }
}

/** Runs argv inside a network namespace given by path (/proc/PID/ns/net, /run/netns/NAME). */
export function inNetns(netnsPath: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${netnsPath}`, '--', ...argv];
}

/** Path of a named namespace made with `ip netns add`. */
export function namedNetnsPath(name: string): string {
  return `/run/netns/${name}`;
}

const TIMEOUT_MS = 15_000;

export class ExecRunner implements CommandRunner {
  run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        argv[0],
        argv.slice(1),
        { encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 256 << 20 },
        (err, stdout, stderr) => {
          if (err) {
            const code = typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
            reject(new CommandError(argv, code, stderr || err.message));
          } else resolve(stdout);
        },
      );
      // A command that exits before reading its input (nsenter into a namespace that just went
      // away) closes the pipe: the write fails with EPIPE, which must not crash the agent. The
      // exit status above reports the failure.
      child.stdin?.on('error', () => {});
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }
}

/** `ip -j …` and `tc -j …` print nothing instead of `[]` when there is nothing to list. */
export function parseJsonList<T>(text: string): T[] {
  const t = text.trim();
  return t === '' ? [] : (JSON.parse(t) as T[]);
}
