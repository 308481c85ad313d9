/**
 * Command line of mseg-agent. Every bad or missing flag is a UsageError naming the flag, so the
 * operator sees what to fix instead of a stack trace.
 */
import { isAbsolute } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { MSEG_NETNS } from '../plumbing/names.js';

export interface AgentOptions {
  /** gRPC base URL of the controller, http://host:port. */
  controllerUrl: string;
  joinToken: string;
  dockerSocket: string;
  dpSocket: string;
  dataDir: string;
  /** Network namespace holding the taps' nv-in ports (tests use one of their own). */
  captureNetns: string;
  /** Monitor only containers carrying this label (several agents on one Docker host, e.g. tests). */
  onlyLabel?: { key: string; value: string };
}

export class UsageError extends Error {
  readonly code = 'MSEG_ERR_AGENT_USAGE';
}

/** `host:port`, `[v6]:port` or `http://host:port` → `http://host:port`; null when not one of those. */
export function controllerUrl(text: string): string | null {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  // The controller's agent port speaks cleartext HTTP/2 (h2c) only, so http is the one scheme.
  if (url.protocol !== 'http:' || !url.hostname || !url.port || (url.pathname !== '/' && url.pathname !== '')) return null;
  return `${url.protocol}//${url.host}`;
}

function netnsName(v: string): string {
  // `ip netns` names are file names under /run/netns.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v)) throw new UsageError(`--capture-netns: "${v}" is not a namespace name (letters, digits, _ . -)`);
  return v;
}

function labelSelector(v: string): { key: string; value: string } {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new UsageError(`--only-label: expected KEY=VALUE, got "${v}"`);
  return { key: v.slice(0, eq), value: v.slice(eq + 1) };
}

function absolutePath(flag: string) {
  return (v: string) => {
    if (!isAbsolute(v)) throw new UsageError(`${flag}: must be an absolute path, got "${v}"`);
    return v;
  };
}

/** Parses argv (without node and script); `env` supplies MSEG_JOIN_TOKEN when --token is absent. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const cmd = new Command('mseg-agent')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .requiredOption('--controller <host:port>', "controller's agent gRPC endpoint (port 18400)")
    .addOption(new Option('--token <token>', 'join token (or MSEG_JOIN_TOKEN)'))
    .addOption(new Option('--docker-socket <path>', 'Docker Engine API socket').default('/var/run/docker.sock').argParser(absolutePath('--docker-socket')))
    .addOption(new Option('--dp-socket <path>', 'data plane control socket').default('/run/mseg/dp.sock').argParser(absolutePath('--dp-socket')))
    .addOption(new Option('--data-dir <dir>', 'where the agent keeps its identity').default('/var/lib/mseg-agent').argParser(absolutePath('--data-dir')))
    .addOption(new Option('--capture-netns <name>', 'network namespace of the taps\' nv-in ports').default(MSEG_NETNS).argParser(netnsName))
    .addOption(new Option('--only-label <key=value>', 'monitor only containers with this label').argParser(labelSelector));
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  const o = cmd.opts<{ controller: string; token?: string; dockerSocket: string; dpSocket: string; dataDir: string; captureNetns: string; onlyLabel?: { key: string; value: string } }>();
  const url = controllerUrl(o.controller);
  if (!url) throw new UsageError(`--controller: expected HOST:PORT (e.g. controller.local:18400), got "${o.controller}"`);
  const joinToken = (o.token ?? env.MSEG_JOIN_TOKEN ?? '').trim();
  if (!joinToken) throw new UsageError('--token: a join token is required (or set MSEG_JOIN_TOKEN)');
  return { controllerUrl: url, joinToken, dockerSocket: o.dockerSocket, dpSocket: o.dpSocket, dataDir: o.dataDir, captureNetns: o.captureNetns, ...(o.onlyLabel ? { onlyLabel: o.onlyLabel } : {}) };
}
