/**
 * Where a stack started by `mseg up` keeps its pieces. The defaults are the host's; tests pass a
 * layout of their own (run dir, data dir, netns, ports) so they never meet a real stack.
 * `up` writes the layout to `<runDir>/up.json`; the supervisor, `down` and `status` read it there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Layout {
  /** pid and state files, the DP's control socket: /run/mseg */
  runDir: string;
  /** one log per process: /var/log/mseg */
  logDir: string;
  /** controller store, TLS certificate, admin password and join token: /var/lib/mseg */
  dataDir: string;
  /** capture network namespace: the taps' nv-in ends, where the DP reads */
  netns: string;
  host: string;
  apiPort: number;
  grpcPort: number;
  dockerSocket: string;
}

export const DEFAULT_LAYOUT: Layout = {
  runDir: '/run/mseg',
  logDir: '/var/log/mseg',
  dataDir: '/var/lib/mseg',
  netns: 'mseg',
  host: '0.0.0.0',
  apiPort: 10443,
  grpcPort: 18400,
  dockerSocket: '/var/run/docker.sock',
};

export const paths = {
  layout: (l: Pick<Layout, 'runDir'>) => join(l.runDir, 'up.json'),
  state: (l: Pick<Layout, 'runDir'>) => join(l.runDir, 'state.json'),
  pid: (l: Pick<Layout, 'runDir'>, name: string) => join(l.runDir, `${name}.pid`),
  dpSocket: (l: Pick<Layout, 'runDir'>) => join(l.runDir, 'dp.sock'),
  /** Written by the agent for the DP it runs (`<socket>.pid`, see the agent's DpSupervisor). */
  dpPid: (l: Pick<Layout, 'runDir'>) => join(l.runDir, 'dp.sock.pid'),
  log: (l: Pick<Layout, 'logDir'>, name: string) => join(l.logDir, `${name}.log`),
  adminPassword: (l: Pick<Layout, 'dataDir'>) => join(l.dataDir, 'admin-password'),
  joinToken: (l: Pick<Layout, 'dataDir'>) => join(l.dataDir, 'join-token'),
  agentData: (l: Pick<Layout, 'dataDir'>) => join(l.dataDir, 'agent'),
  cert: (l: Pick<Layout, 'dataDir'>) => join(l.dataDir, 'tls', 'cert.pem'),
};

/** The layout `up` recorded in this run dir, or null when no stack was started from it. */
export function readLayout(runDir: string): Layout | null {
  const file = paths.layout({ runDir });
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Layout;
}

/** The REST address on this host: loopback when the controller listens on every address. */
export function localApiUrl(l: Layout): string {
  const host = l.host === '0.0.0.0' || l.host === '::' ? '127.0.0.1' : l.host;
  return `https://${host.includes(':') ? `[${host}]` : host}:${l.apiPort}`;
}
