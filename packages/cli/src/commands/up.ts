/**
 * `mseg up`: starts the controller and the agent (which runs the data plane) on this host under
 * a supervisor process, waits until the API answers and the agent has registered, logs the CLI in
 * as admin, and prints the UI address and the admin login. Running it again while the stack runs
 * only prints those.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { ApiClient, type Page } from '../api/client.js';
import { saveSession } from '../config.js';
import { positiveInt, type CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { progress, type Progress } from '../output/io.js';
import { SUPERVISOR_MAIN } from '../system/components.js';
import { DEFAULT_LAYOUT, localApiUrl, paths, type Layout } from '../system/layout.js';
import { alive } from '../system/processes.js';
import { ensureDirs, ensureSecret, requireRoot, supervisorPid, tail } from '../system/stack.js';

const START_TIMEOUT_MS = 90_000;

interface Agent {
  host: string;
  state: string;
}

/** Addresses a browser on another machine could use: the first non-internal IPv4, then loopback. */
function uiAddresses(l: Layout): string[] {
  const local = localApiUrl(l);
  if (l.host !== '0.0.0.0') return [`${local}/`];
  const v4 = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return [...(v4 ? [`https://${v4.address}:${l.apiPort}/`] : []), `${local}/`];
}

async function waitFor<T>(p: Progress, what: string, supervisor: number, logFile: string, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    p.step(what);
    try {
      const v = await check();
      if (v !== null) return v;
    } catch (e) {
      if (!(e instanceof CliError && e.code === 'MSEG_ERR_CLI_UNREACHABLE')) throw e;
    }
    if (!alive(supervisor)) {
      p.fail('the supervisor exited');
      const own = join(dirname(logFile), 'supervisor.log');
      throw new CliError('MSEG_ERR_CLI_START', `the supervisor exited; ${own}:\n${tail(own)}\n${logFile}:\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      p.fail(`timed out: ${what}`);
      throw new CliError('MSEG_ERR_CLI_START', `${what}: no success within ${START_TIMEOUT_MS / 1000} s; ${logFile}:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function upCommand(ctx: CliContext): Command {
  return new Command('up')
    .description('start controller, agent and data plane on this host (root)')
    .addOption(new Option('--run-dir <dir>', 'pid, state and socket files').default(DEFAULT_LAYOUT.runDir))
    .addOption(new Option('--log-dir <dir>', 'logs of every process').default(DEFAULT_LAYOUT.logDir))
    .addOption(new Option('--data-dir <dir>', 'controller store, certificate, admin password, join token').default(DEFAULT_LAYOUT.dataDir))
    .addOption(new Option('--netns <name>', 'capture network namespace').default(DEFAULT_LAYOUT.netns))
    .addOption(new Option('--host <addr>', 'address the controller listens on').default(DEFAULT_LAYOUT.host))
    .addOption(new Option('--api-port <n>', 'REST API and UI port').default(DEFAULT_LAYOUT.apiPort).argParser(positiveInt('--api-port')))
    .addOption(new Option('--grpc-port <n>', 'agent gRPC port').default(DEFAULT_LAYOUT.grpcPort).argParser(positiveInt('--grpc-port')))
    .addOption(new Option('--docker-socket <path>', 'Docker Engine API socket').default(DEFAULT_LAYOUT.dockerSocket))
    .option('--json', 'print addresses and login as JSON')
    .action(async (o: Layout & { json?: boolean }) => {
      requireRoot('mseg up');
      const layout: Layout = {
        runDir: o.runDir,
        logDir: o.logDir,
        dataDir: o.dataDir,
        netns: o.netns,
        host: o.host,
        apiPort: o.apiPort,
        grpcPort: o.grpcPort,
        dockerSocket: o.dockerSocket,
      };
      let supervisor = supervisorPid(layout);
      const p = progress(ctx.io, 'mseg up');
      if (supervisor === null) {
        ensureDirs(layout);
        ensureSecret(paths.adminPassword(layout), 18);
        ensureSecret(paths.joinToken(layout), 24);
        writeFileSync(paths.layout(layout), `${JSON.stringify(layout, null, 2)}\n`);
        p.step('starting the supervisor');
        const logFile = paths.log(layout, 'supervisor');
        const log = openSync(logFile, 'a');
        // Its own session: the stack outlives this command and the terminal it ran in.
        const child = spawn(process.execPath, [SUPERVISOR_MAIN(), layout.runDir], { detached: true, stdio: ['ignore', log, log] });
        closeSync(log);
        child.unref();
        if (!child.pid) throw new CliError('MSEG_ERR_CLI_START', 'could not start the supervisor');
        supervisor = child.pid;
      } else {
        p.step(`already running (supervisor pid ${supervisor})`);
      }

      const password = ensureSecret(paths.adminPassword(layout), 18);
      const url = localApiUrl(layout);
      const anon = new ApiClient(url, { insecure: true, timeoutMs: 5_000 });
      await waitFor(p, `controller on ${url}`, supervisor, paths.log(layout, 'controller'), async () =>
        (await anon.json<{ status: string }>('GET', '/health')).status === 'ok' ? true : null,
      );
      // The certificate exists once the API answers; from here on it is the one trusted.
      const ca = paths.cert(layout);
      const login = await new ApiClient(url, { ca }).json<{ token: string; expiresAt: number; role: string; username: string }>('POST', '/auth/login', {
        body: { username: 'admin', password },
      });
      const sessionFile = saveSession(ctx.env, { url, token: login.token, username: login.username, role: login.role, expiresAt: login.expiresAt, ca });
      const api = new ApiClient(url, { ca, token: login.token });
      const agent = await waitFor(p, 'agent registration', supervisor, paths.log(layout, 'agent'), async () => {
        const page = await api.json<Page<Agent>>('GET', '/agents');
        return page.items.find((a) => a.state === 'online') ?? null;
      });
      p.done(`running (agent on ${agent.host} online)`);

      const ui = uiAddresses(layout);
      if (o.json) {
        ctx.io.out(`${JSON.stringify({ ui, api: `${url}/api/v1`, username: 'admin', password, passwordFile: paths.adminPassword(layout), certificate: ca, supervisorPid: supervisor }, null, 2)}\n`);
        return;
      }
      ctx.io.out(
        [
          `mseg is running (supervisor pid ${supervisor}; logs in ${layout.logDir})`,
          `  UI:          ${ui.join('  or  ')}  (self-signed certificate ${ca})`,
          `  admin login: admin / ${password}  (saved in ${paths.adminPassword(layout)})`,
          `  CLI:         logged in as admin (${sessionFile}); try \`mseg status\`, \`mseg demo\``,
          `  stop:        mseg down`,
          '',
        ].join('\n'),
      );
    });
}
