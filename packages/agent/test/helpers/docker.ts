/**
 * A Docker engine for the agent's container tests. CI is a clean Debian with nothing running:
 * `scripts/ensure.sh test` installs docker.io, and this starts dockerd when no engine answers on
 * the socket. A dockerd that was already running is used as it is and never stopped; one started
 * here is stopped by the returned function (vitest's global teardown), and on process exit.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DOCKER_SOCKET = '/var/run/docker.sock';
const LOG_DIR = '/var/log/mseg-test';
const START_TIMEOUT_MS = 60_000;
/** Longest wait for dockerd to stop at the end of a run (within vitest's teardownTimeout). */
const STOP_TIMEOUT_MS = 20_000;

async function answers(): Promise<boolean> {
  try {
    await run('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts dockerd unless one answers; returns how to stop what was started (a no-op otherwise). */
export async function ensureDocker(): Promise<() => Promise<void>> {
  if (await answers()) return async () => {};
  mkdirSync(LOG_DIR, { recursive: true });
  const logPath = `${LOG_DIR}/dockerd.log`;
  const log = openSync(logPath, 'a');
  const child = spawn('dockerd', ['-H', `unix://${DOCKER_SOCKET}`], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  // The run ends by its teardown, not by waiting for dockerd.
  child.unref();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err));
  const stop = () => {
    process.off('exit', stop);
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
  };
  process.once('exit', stop);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`cannot run dockerd (${String(spawnError)}); run scripts/ensure.sh test as root`);
    if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode} at start; see ${logPath}`);
    if (await answers()) {
      return async () => {
        stop();
        // dockerd stops its containers and its containerd on SIGTERM; wait so the next run
        // does not find a half-stopped engine holding the socket. The timer goes once dockerd
        // is gone: left pending, it held the test run open after its end.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, STOP_TIMEOUT_MS)))]);
        clearTimeout(timer);
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`dockerd did not answer on ${DOCKER_SOCKET} within ${START_TIMEOUT_MS / 1000} s; see ${logPath}`);
}
