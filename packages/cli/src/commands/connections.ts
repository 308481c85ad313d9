/** `mseg connections`: conversations (both ends merged) over a time window, with application and verdict. */
import type { Command } from 'commander';
import type { Page } from '../api/client.js';
import { workloadNames } from '../api/names.js';
import { listCommand, positiveInt, printPage, sessionClient, type CliContext } from '../context.js';
import { formatBytes, formatPort, formatTime } from '../output/table.js';

interface Conversation {
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  verdict: string;
  ruleId: number;
  enforcedBy: string;
  bytes: number;
  sessions: number;
  lastSeen: number;
}

export function connectionsCommand(ctx: CliContext): Command {
  return listCommand('connections', 'list connections')
    .option('--from <ref>', 'client: workload id, group name or external')
    .option('--to <ref>', 'server: workload id, group name or external')
    .option('--app <name>', 'application')
    .option('--port <n>', 'server port', positiveInt('--port'))
    .option('--verdict <verdict>', 'allow, deny or violate')
    .option('--minutes <n>', 'window: the last N minutes', positiveInt('--minutes'), 60)
    .action(async (o: { json?: boolean; limit: number; offset: number; from?: string; to?: string; app?: string; port?: number; verdict?: string; minutes: number }) => {
      const client = sessionClient(ctx);
      const page = await client.json<Page<Conversation>>('GET', '/connections', {
        query: { limit: o.limit, offset: o.offset, from: o.from, to: o.to, app: o.app, port: o.port, verdict: o.verdict, since: Date.now() - o.minutes * 60_000 },
      });
      const name = o.json ? () => '' : await workloadNames(client);
      printPage(ctx, page, o.json, [
        { header: 'CLIENT', value: (c) => name(c.clientWorkload, c.clientIp) },
        { header: 'SERVER', value: (c) => name(c.serverWorkload, c.serverIp) },
        { header: 'PORT', value: (c) => formatPort(c.proto, c.serverPort) },
        { header: 'APP', value: (c) => c.app },
        { header: 'VERDICT', value: (c) => c.verdict },
        { header: 'RULE', value: (c) => c.ruleId },
        { header: 'BY', value: (c) => c.enforcedBy },
        { header: 'SESSIONS', value: (c) => c.sessions },
        { header: 'BYTES', value: (c) => formatBytes(c.bytes) },
        { header: 'LAST SEEN', value: (c) => formatTime(c.lastSeen) },
      ]);
    });
}
