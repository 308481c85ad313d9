/**
 * `mseg status`: the stack on this host (supervisor and its processes with pids and restarts,
 * the data plane, the ports) and, when logged in, what the controller knows: agents and workload
 * counts. Works without root for the controller part.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { Page } from '../api/client.js';
import { sessionClient, type CliContext } from '../context.js';
import { describeError } from '../errors.js';
import { renderTable, formatTime } from '../output/table.js';
import { DEFAULT_LAYOUT, paths, readLayout } from '../system/layout.js';
import { dataPlanePid, listening, supervisorPid } from '../system/stack.js';
import type { SupervisorState } from '../system/supervisor.js';

interface Summary {
  agents: { online: number; total: number };
  workloads: { running: number; total: number };
  groups: number;
  rules: number;
  connections5m: number;
  violations24h: number;
}

interface Agent {
  id: string;
  host: string;
  state: string;
  version: string;
  lastSeen: number;
  workloads: number;
  policyRevision: number;
}

interface Component {
  name: string;
  state: string;
  pid: number | null;
  restarts: number | null;
  since: number | null;
}

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('components, ports, agents and workload counts')
    .addOption(new Option('--run-dir <dir>', 'run dir given to `mseg up`').default(DEFAULT_LAYOUT.runDir))
    .option('--json', 'print the status as JSON')
    .action(async (o: { runDir: string; json?: boolean }) => {
      const layout = readLayout(o.runDir);
      const components: Component[] = [];
      let ports: { name: string; port: number; listening: boolean }[] = [];
      if (layout) {
        const sup = supervisorPid(layout);
        const stateFile = paths.state(layout);
        const state = sup !== null && existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as SupervisorState) : null;
        components.push({ name: 'supervisor', state: sup === null ? 'stopped' : 'running', pid: sup, restarts: null, since: state?.startedAt ?? null });
        for (const [name, c] of Object.entries(state?.children ?? {})) {
          components.push({ name, state: c.state, pid: c.pid, restarts: c.restarts, since: c.startedAt });
        }
        const dp = dataPlanePid(layout);
        components.push({ name: 'dp', state: dp !== null ? 'running' : 'stopped', pid: dp, restarts: null, since: null });
        ports = [
          { name: 'REST API + UI', port: layout.apiPort, listening: await listening(layout.apiPort) },
          { name: 'agent gRPC', port: layout.grpcPort, listening: await listening(layout.grpcPort) },
        ];
      }

      let controller: { summary: Summary; agents: Agent[] } | { error: string } | null = null;
      try {
        const client = sessionClient(ctx);
        const [summary, agents] = await Promise.all([client.json<Summary>('GET', '/system/summary'), client.json<Page<Agent>>('GET', '/agents')]);
        controller = { summary, agents: agents.items };
      } catch (e) {
        controller = { error: describeError(e) };
      }

      if (o.json) {
        ctx.io.out(`${JSON.stringify({ layout, components, ports, controller }, null, 2)}\n`);
        return;
      }
      if (!layout) ctx.io.out(`no stack started from ${o.runDir} (mseg up)\n`);
      else {
        ctx.io.out(
          renderTable(components, [
            { header: 'COMPONENT', value: (c) => c.name },
            { header: 'STATE', value: (c) => c.state },
            { header: 'PID', value: (c) => c.pid ?? '-' },
            { header: 'RESTARTS', value: (c) => c.restarts ?? '-' },
            { header: 'SINCE', value: (c) => formatTime(c.since) },
          ]),
        );
        ctx.io.out(`ports: ${ports.map((p) => `${p.name} ${p.port} (${p.listening ? 'listening' : 'closed'})`).join(', ')}\n`);
      }
      if ('error' in controller) {
        ctx.io.out(`controller: ${controller.error}\n`);
        return;
      }
      const s = controller.summary;
      ctx.io.out(
        `agents: ${s.agents.online} online of ${s.agents.total}; workloads: ${s.workloads.running} running of ${s.workloads.total}; ` +
          `groups ${s.groups}, rules ${s.rules}, connections (5 min) ${s.connections5m}, violations (24 h) ${s.violations24h}\n`,
      );
      if (controller.agents.length) {
        ctx.io.out(
          renderTable(controller.agents, [
            { header: 'AGENT', value: (a) => a.id.slice(0, 12) },
            { header: 'HOST', value: (a) => a.host },
            { header: 'STATE', value: (a) => a.state },
            { header: 'WORKLOADS', value: (a) => a.workloads },
            { header: 'POLICY REV', value: (a) => a.policyRevision },
            { header: 'LAST SEEN', value: (a) => formatTime(a.lastSeen) },
          ]),
        );
      }
    });
}
