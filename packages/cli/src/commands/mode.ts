/**
 * `mseg mode GROUP monitor|protect`: sets the policy mode of a service group. `web` is taken as
 * `svc.web` when no group has the name as given (modes live on service groups only). Before
 * Protect, the conversations of the last 24 h that it would block are shown.
 */
import { Command } from 'commander';
import type { Page } from '../api/client.js';
import { sessionClient, type CliContext } from '../context.js';
import { ApiError, CliError } from '../errors.js';
import { formatPort } from '../output/table.js';

interface Group {
  name: string;
  mode: string | null;
  members: number;
}

interface WouldBlock {
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  side: string;
  sessions: number;
}

export function modeCommand(ctx: CliContext): Command {
  return new Command('mode')
    .description('switch a service group to monitor or protect')
    .argument('<group>', 'service group (svc.NAME, or NAME)')
    .argument('<mode>', 'monitor or protect')
    .option('--json', 'print the changed group as JSON')
    .action(async (group: string, mode: string, o: { json?: boolean }) => {
      if (mode !== 'monitor' && mode !== 'protect') throw new CliError('MSEG_ERR_CLI_USAGE', `mode: expected monitor or protect, got "${mode}"`);
      const client = sessionClient(ctx);
      let name = group;
      try {
        await client.json<Group>('GET', `/groups/${encodeURIComponent(name)}`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'MSEG_ERR_NOT_FOUND') || group.startsWith('svc.')) throw e;
        name = `svc.${group}`;
      }
      if (mode === 'protect' && !o.json) {
        const preview = await client.json<Page<WouldBlock>>('GET', `/groups/${encodeURIComponent(name)}/preview-protect`, { query: { limit: 10 } });
        if (preview.total > 0) {
          ctx.io.err(`${preview.total} conversation(s) of the last 24 h would be blocked:\n`);
          for (const w of preview.items) ctx.io.err(`  ${w.clientIp} -> ${w.serverIp} ${formatPort(w.proto, w.serverPort)} ${w.app} (${w.side}, ${w.sessions} sessions)\n`);
        }
      }
      const g = await client.json<Group>('PATCH', `/groups/${encodeURIComponent(name)}`, { body: { mode } });
      if (o.json) ctx.io.out(`${JSON.stringify(g, null, 2)}\n`);
      else ctx.io.out(`${g.name}: ${g.mode} (${g.members} running workload${g.members === 1 ? '' : 's'})\n`);
    });
}
