// Long-running processes of a live test (the DP, servers in namespaces): started with a readiness
// line to wait for, and stopped by their own pid with a bounded wait, escalating to SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Started {
  readonly child: ChildProcess;
  readonly name: string;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
}

/**
 * Spawns `cmd args` and resolves once its stdout or stderr matches `ready`. Rejects (and kills the
 * process) if it exits first or `timeoutMs` passes.
 */
export function startProcess(name: string, cmd: string, args: string[], ready: RegExp, timeoutMs = 10_000): Promise<Started> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const started: Started = { child, name, output: () => out };
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        void stopProcess(started);
        reject(err);
      } else {
        resolve(started);
      }
    };
    const timer = setTimeout(() => settle(new Error(`${name} not ready within ${timeoutMs} ms; output:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (ready.test(out)) settle();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => settle(new Error(`${name} failed to start: ${e.message}`)));
    child.once('exit', (code, signal) => settle(new Error(`${name} exited (${code ?? signal}) before it was ready; output:\n${out}`)));
  });
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`; resolves once it is gone. */
export function stopProcess(p: Started, graceMs = 3_000): Promise<void> {
  const child = p.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
