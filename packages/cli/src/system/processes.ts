/**
 * The processes of one stack, found by what they are and never by a broad name: the pids the
 * supervisor recorded (checked against their command line, since a pid can be reused) and any
 * data plane whose command line names this stack's control socket (the agent starts it, and an
 * agent killed with SIGKILL can leave it behind).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export function cmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  // A zombie still has a cmdline file, but an empty one.
  const c = cmdline(pid);
  return c !== null && c.length > 0;
}

export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** The pid in `file` when that process is alive and its command line contains `marker`. */
export function recordedProcess(file: string, marker: string): number | null {
  const pid = readPid(file);
  if (pid === null) return null;
  return cmdline(pid)?.some((a) => a.includes(marker)) ? pid : null;
}

/** Live processes whose command line has `arg` as one of its arguments. */
export function processesWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (cmdline(pid)?.includes(arg)) found.push(pid);
  }
  return found;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once every pid is gone. */
export async function terminate(pids: readonly number[], graceMs: number): Promise<void> {
  const signal = (pid: number, s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // Already gone.
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) {
      for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
      // SIGKILL cannot be ignored; the kernel needs a moment to reap.
      await waitGone(pids, 5_000);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitGone(pids: readonly number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
