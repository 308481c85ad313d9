/** Shared by up, down and status: the supervisor of a run dir, root check, secrets, port probes. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { CliError } from '../errors.js';
import { paths, type Layout } from './layout.js';
import { recordedProcess } from './processes.js';

export const SUPERVISOR_MARKER = 'supervisor-main.js';

export function requireRoot(what: string): void {
  if (process.geteuid?.() !== 0) throw new CliError('MSEG_ERR_CLI_NOT_ROOT', `${what} needs root (network namespaces, tc, nftables, the Docker socket)`);
}

export function supervisorPid(l: Pick<Layout, 'runDir'>): number | null {
  return recordedProcess(paths.pid(l, 'supervisor'), SUPERVISOR_MARKER);
}

/**
 * The data plane the agent runs: the pid the agent recorded, while that process still names the
 * stack's socket. Not "any process naming the socket": the agent's own command line names it too
 * (--dp-socket).
 */
export function dataPlanePid(l: Pick<Layout, 'runDir'>): number | null {
  const pid = recordedProcess(paths.dpPid(l), paths.dpSocket(l));
  return pid !== null && pid !== recordedProcess(paths.pid(l, 'agent'), paths.dpSocket(l)) ? pid : null;
}

/** A secret kept in a 0600 file of the data dir: read it, or make it on first use. */
export function ensureSecret(file: string, bytes: number): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return value;
}

export function ensureDirs(l: Layout): void {
  mkdirSync(l.runDir, { recursive: true, mode: 0o755 });
  mkdirSync(l.logDir, { recursive: true, mode: 0o750 });
  mkdirSync(l.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.agentData(l), { recursive: true, mode: 0o700 });
}

/** Something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host, timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

/** The last lines of a log, to show why something did not start. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
