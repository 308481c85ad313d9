/**
 * The saved login: controller URL, bearer token and how to trust its certificate, in
 * `~/.config/mseg/session.json` (XDG_CONFIG_HOME honoured; MSEG_CONFIG_DIR overrides, for tests
 * and for several controllers side by side). The token is a credential: the directory is 0700 and
 * the file 0600 from creation on.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Session {
  /** Base URL of the REST API, e.g. https://127.0.0.1:10443 */
  url: string;
  token: string;
  username: string;
  role: string;
  expiresAt: number;
  /** PEM file to trust for https (the controller's self-signed certificate). */
  ca?: string;
  /** Skip certificate checks (asked for with --insecure). */
  insecure?: boolean;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.MSEG_CONFIG_DIR) return env.MSEG_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'mseg');
}

export function sessionPath(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'session.json');
}

export function loadSession(env: NodeJS.ProcessEnv): Session | null {
  const path = sessionPath(env);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Session;
}

export function saveSession(env: NodeJS.ProcessEnv, session: Session): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = sessionPath(env);
  writeFileSync(path, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  // An older file keeps its mode on overwrite: make sure it is the owner's alone.
  chmodSync(path, 0o600);
  return path;
}
