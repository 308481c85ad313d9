/**
 * `mseg down`: stops the stack `mseg up` started (supervisor, controller, agent, and a data plane
 * an agent may have left), then removes every link, filter, table and namespace it made, with the
 * agent's own reconcilers. The data dir (store, certificate, secrets) and the logs stay.
 */
import { rmSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { progress } from '../output/io.js';
import { cleanupKernel } from '../system/cleanup.js';
import { AGENT_BIN, CONTROLLER_BIN } from '../system/components.js';
import { DEFAULT_LAYOUT, paths, readLayout } from '../system/layout.js';
import { processesWithArg, recordedProcess, terminate } from '../system/processes.js';
import { requireRoot, supervisorPid } from '../system/stack.js';

const STOP_GRACE_MS = 30_000;

export function downCommand(ctx: CliContext): Command {
  return new Command('down')
    .description('stop everything `mseg up` started and remove what it made in the kernel (root)')
    .addOption(new Option('--run-dir <dir>', 'run dir given to `mseg up`').default(DEFAULT_LAYOUT.runDir))
    .addOption(new Option('--netns <name>', 'capture namespace, when `up` left no record').default(DEFAULT_LAYOUT.netns))
    .addOption(new Option('--docker-socket <path>', 'Docker socket, when `up` left no record').default(DEFAULT_LAYOUT.dockerSocket))
    .option('--json', 'print what was done as JSON')
    .action(async (o: { runDir: string; netns: string; dockerSocket: string; json?: boolean }) => {
      requireRoot('mseg down');
      const recorded = readLayout(o.runDir);
      const layout = recorded ?? { ...DEFAULT_LAYOUT, runDir: o.runDir, netns: o.netns, dockerSocket: o.dockerSocket };
      const p = progress(ctx.io, 'mseg down');

      const stopped: number[] = [];
      const supervisor = supervisorPid(layout);
      if (supervisor !== null) {
        p.step(`stopping the supervisor (pid ${supervisor}) and its processes`);
        await terminate([supervisor], STOP_GRACE_MS);
        stopped.push(supervisor);
      }
      // Left by a supervisor that was killed, or by an agent killed before it could stop its DP.
      const leftovers = [
        ...[
          ['controller', CONTROLLER_BIN()],
          ['agent', AGENT_BIN()],
        ].flatMap(([name, bin]) => {
          const pid = recordedProcess(paths.pid(layout, name), bin);
          return pid === null ? [] : [pid];
        }),
        ...processesWithArg(paths.dpSocket(layout)),
      ];
      if (leftovers.length) {
        p.step(`stopping ${leftovers.length} process(es) left behind`);
        await terminate(leftovers, 10_000);
        stopped.push(...leftovers);
      }

      p.step('removing taps, mirrors, tables and the capture namespace');
      const report = await cleanupKernel({ netns: layout.netns, dockerSocket: layout.dockerSocket });
      for (const f of ['layout', 'state', 'dpSocket'] as const) rmSync(paths[f](layout), { force: true });
      for (const name of ['supervisor', 'controller', 'agent']) rmSync(paths.pid(layout, name), { force: true });
      p.done('stopped');

      if (o.json) {
        ctx.io.out(`${JSON.stringify({ stopped, ...report }, null, 2)}\n`);
        return;
      }
      ctx.io.out(
        `stopped ${stopped.length} process(es); ${report.captureNamespaceRemoved ? `removed namespace ${layout.netns}; ` : ''}` +
          `cleared nv- links, mirror filters and mseg tables in ${report.containerNamespaces} container namespace(s)\n`,
      );
      if (report.dockerError) ctx.io.err(`warning: Docker did not answer (${report.dockerError}): container namespaces were not cleared\n`);
    });
}
