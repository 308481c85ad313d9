/** `mseg workloads`: the workloads the agents report, with their service and policy mode. */
import type { Command } from 'commander';
import type { Page } from '../api/client.js';
import { listCommand, printPage, sessionClient, type CliContext } from '../context.js';

export interface Workload {
  id: string;
  host: string;
  name: string;
  image: string;
  service: string;
  interfaces: { name: string; ips: string[] }[];
  state: string;
  reason: string;
  mode: string;
}

export function workloadsCommand(ctx: CliContext): Command {
  return listCommand('workloads', 'list workloads')
    .option('--host <name>', 'only this host')
    .option('--service <name>', 'only this service')
    .option('--group <name>', 'only members of this group')
    .option('--state <state>', 'running, stopped or unmonitored')
    .action(async (o: { json?: boolean; limit: number; offset: number; host?: string; service?: string; group?: string; state?: string }) => {
      const page = await sessionClient(ctx).json<Page<Workload>>('GET', '/workloads', {
        query: { limit: o.limit, offset: o.offset, host: o.host, service: o.service, group: o.group, state: o.state },
      });
      printPage(ctx, page, o.json, [
        { header: 'ID', value: (w) => w.id.slice(0, 12) },
        { header: 'NAME', value: (w) => w.name },
        { header: 'SERVICE', value: (w) => w.service },
        { header: 'HOST', value: (w) => w.host },
        { header: 'STATE', value: (w) => (w.reason ? `${w.state} (${w.reason})` : w.state) },
        { header: 'MODE', value: (w) => w.mode },
        { header: 'IPS', value: (w) => w.interfaces.flatMap((i) => i.ips).join(',') || '-' },
        { header: 'IMAGE', value: (w) => w.image },
      ]);
    });
}
