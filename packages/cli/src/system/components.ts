/**
 * The processes of a stack and their command lines: the controller and the agent (which starts
 * and supervises the data plane itself), each from its package's bin, resolved through Node so
 * it works from the source tree and from an installed package alike.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { paths, type Layout } from './layout.js';
import type { ChildSpec } from './supervisor.js';

const require = createRequire(import.meta.url);

export function binOf(pkg: string, bin: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin;
  return join(dirname(manifest), bins[bin]);
}

/** Always the built file, also when the caller runs from the sources (tests). */
export const SUPERVISOR_MAIN = () => join(dirname(require.resolve('@mseg/cli/package.json')), 'dist', 'system', 'supervisor-main.js');
export const CONTROLLER_BIN = () => binOf('@mseg/controller', 'mseg-controller');
export const AGENT_BIN = () => binOf('@mseg/agent', 'mseg-agent');

/** The secrets come from files in the data dir, so they never show in a process listing. */
export function componentSpecs(l: Layout, secrets: { adminPassword: string; joinToken: string }): ChildSpec[] {
  const env = { ...process.env, MSEG_JOIN_TOKEN: secrets.joinToken };
  return [
    {
      name: 'controller',
      argv: [process.execPath, CONTROLLER_BIN(), '--data-dir', l.dataDir, '--host', l.host, '--api-port', String(l.apiPort), '--grpc-port', String(l.grpcPort)],
      env: { ...env, MSEG_ADMIN_PASSWORD: secrets.adminPassword },
      logFile: paths.log(l, 'controller'),
      pidFile: paths.pid(l, 'controller'),
    },
    {
      name: 'agent',
      argv: [
        process.execPath,
        AGENT_BIN(),
        '--controller',
        `127.0.0.1:${l.grpcPort}`,
        '--docker-socket',
        l.dockerSocket,
        '--dp-socket',
        paths.dpSocket(l),
        '--data-dir',
        paths.agentData(l),
        '--capture-netns',
        l.netns,
      ],
      env,
      logFile: paths.log(l, 'agent'),
      pidFile: paths.pid(l, 'agent'),
    },
  ];
}
