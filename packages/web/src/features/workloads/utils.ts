import { portName } from '../../lib/format';
import type { Conversation } from '../connections/types';

export interface ServedApp {
  port: string;
  app: string;
  sessions: number;
  bytes: number;
  /** distinct client addresses */
  clients: number;
  lastSeen: number;
}

/** What a workload serves: its inbound conversations summed per port and application. */
export function appsByPort(inbound: Conversation[]): ServedApp[] {
  const acc = new Map<string, ServedApp & { ips: Set<string> }>();
  for (const c of inbound) {
    const port = portName(c.proto, c.serverPort);
    const key = `${port}\0${c.app}`;
    let a = acc.get(key);
    if (!a) acc.set(key, (a = { port, app: c.app, sessions: 0, bytes: 0, clients: 0, lastSeen: 0, ips: new Set() }));
    a.sessions += c.sessions;
    a.bytes += c.bytes;
    a.ips.add(c.clientIp);
    a.lastSeen = Math.max(a.lastSeen, c.lastSeen);
  }
  return [...acc.values()]
    .map(({ ips, ...a }) => ({ ...a, clients: ips.size }))
    .sort((x, y) => y.sessions - x.sessions || (x.port < y.port ? -1 : 1));
}
