/**
 * A small process supervisor: starts each child with its log file, restarts one that exits with a
 * doubling backoff (1 s up to 30 s; back to 1 s once a child has stayed up for 30 s), records pid
 * files and a state file after every change, and on stop ends the children in reverse start
 * order (the agent before the controller it reports to).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface ChildSpec {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
}

export interface ChildState {
  pid: number | null;
  state: 'running' | 'backoff' | 'stopped';
  restarts: number;
  startedAt: number | null;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

export interface SupervisorState {
  pid: number;
  startedAt: number;
  children: Record<string, ChildState>;
}

export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** A child that ran this long is healthy again: its next restart waits the minimum. */
export const STABLE_MS = 30_000;
const STOP_GRACE_MS = 15_000;

interface Slot {
  spec: ChildSpec;
  child: ChildProcess | null;
  timer: NodeJS.Timeout | null;
  backoffMs: number;
  state: ChildState;
}

export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly startedAt = Date.now();

  constructor(
    specs: readonly ChildSpec[],
    private readonly stateFile: string,
    private readonly log: (message: string) => void,
    private readonly backoff = { minMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS, stableMs: STABLE_MS },
  ) {
    this.slots = specs.map((spec) => ({
      spec,
      child: null,
      timer: null,
      backoffMs: backoff.minMs,
      state: { pid: null, state: 'stopped', restarts: 0, startedAt: null, lastExit: null },
    }));
  }

  start(): void {
    for (const slot of this.slots) this.launch(slot);
  }

  state(): SupervisorState {
    return { pid: process.pid, startedAt: this.startedAt, children: Object.fromEntries(this.slots.map((s) => [s.spec.name, { ...s.state }])) };
  }

  /** Ends every child (SIGTERM, SIGKILL after a grace period), last started first. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of [...this.slots].reverse()) {
      if (slot.timer) clearTimeout(slot.timer);
      const child = slot.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
    }
    this.save();
  }

  private launch(slot: Slot): void {
    slot.timer = null;
    if (this.stopping) return;
    const log = openSync(slot.spec.logFile, 'a');
    const [cmd, ...args] = slot.spec.argv;
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], env: slot.spec.env ?? process.env });
    closeSync(log);
    slot.child = child;
    const started = Date.now();
    slot.state = { ...slot.state, pid: child.pid ?? null, state: 'running', startedAt: started };
    if (child.pid) writeFileSync(slot.spec.pidFile, `${child.pid}\n`);
    this.log(`${slot.spec.name}: started (pid ${child.pid})`);
    this.save();
    child.once('error', (e) => this.log(`${slot.spec.name}: ${e.message}`));
    child.once('exit', (code, signal) => {
      slot.child = null;
      rmSync(slot.spec.pidFile, { force: true });
      slot.state = { ...slot.state, pid: null, lastExit: { code, signal, at: Date.now() } };
      if (this.stopping) {
        slot.state.state = 'stopped';
        this.log(`${slot.spec.name}: stopped`);
        this.save();
        return;
      }
      if (Date.now() - started >= this.backoff.stableMs) slot.backoffMs = this.backoff.minMs;
      const wait = slot.backoffMs;
      slot.backoffMs = Math.min(slot.backoffMs * 2, this.backoff.maxMs);
      slot.state = { ...slot.state, state: 'backoff', restarts: slot.state.restarts + 1 };
      this.log(`${slot.spec.name}: exited (${signal ?? `code ${code}`}); restart in ${wait} ms`);
      this.save();
      slot.timer = setTimeout(() => this.launch(slot), wait);
    });
  }

  /** Written whole to a temp file and renamed: a reader never sees half a state. */
  private save(): void {
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state(), null, 2)}\n`);
    renameSync(tmp, this.stateFile);
  }
}
