/** `mseg violations`: de-duplicated policy violations (deny and violate), newest first. */
import type { Command } from 'commander';
import type { Page } from '../api/client.js';
import { workloadNames } from '../api/names.js';
import { listCommand, positiveInt, printPage, sessionClient, type CliContext } from '../context.js';
import { formatPort, formatTime } from '../output/table.js';

interface Violation {
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  ruleId: number;
  action: string;
  enforcedBy: string;
  reportedBy: string;
  count: number;
  lastSeen: number;
}

export function violationsCommand(ctx: CliContext): Command {
  return listCommand('violations', 'list policy violations')
    .option('--workload <ref>', 'either end: workload id, group name or external')
    .option('--action <action>', 'deny or violate')
    .option('--rule <id>', 'deciding rule id (0 = implicit deny)', positiveInt('--rule', true))
    .option('--minutes <n>', 'window: the last N minutes', positiveInt('--minutes'), 24 * 60)
    .action(async (o: { json?: boolean; limit: number; offset: number; workload?: string; action?: string; rule?: number; minutes: number }) => {
      const client = sessionClient(ctx);
      const page = await client.json<Page<Violation>>('GET', '/violations', {
        query: { limit: o.limit, offset: o.offset, workload: o.workload, action: o.action, rule: o.rule, since: Date.now() - o.minutes * 60_000 },
      });
      const name = o.json ? () => '' : await workloadNames(client);
      printPage(ctx, page, o.json, [
        { header: 'LAST SEEN', value: (v) => formatTime(v.lastSeen) },
        { header: 'CLIENT', value: (v) => name(v.clientWorkload, v.clientIp) },
        { header: 'SERVER', value: (v) => name(v.serverWorkload, v.serverIp) },
        { header: 'PORT', value: (v) => formatPort(v.proto, v.serverPort) },
        { header: 'APP', value: (v) => v.app },
        { header: 'ACTION', value: (v) => v.action },
        { header: 'RULE', value: (v) => v.ruleId },
        { header: 'BY', value: (v) => v.enforcedBy },
        { header: 'SEEN BY', value: (v) => v.reportedBy },
        { header: 'COUNT', value: (v) => v.count },
      ]);
    });
}
