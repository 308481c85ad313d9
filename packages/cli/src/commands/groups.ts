/** `mseg groups`: user, service and reserved groups with their mode and live member count. */
import type { Command } from 'commander';
import type { Page } from '../api/client.js';
import { listCommand, printPage, sessionClient, type CliContext } from '../context.js';

interface Group {
  name: string;
  kind: string;
  mode: string | null;
  members: number;
  criteria: { key: string; op: string; value: string }[];
  comment: string;
}

export function groupsCommand(ctx: CliContext): Command {
  return listCommand('groups', 'list groups')
    .option('--kind <kind>', 'user, service or reserved')
    .option('--name <text>', 'name contains')
    .action(async (o: { json?: boolean; limit: number; offset: number; kind?: string; name?: string }) => {
      const page = await sessionClient(ctx).json<Page<Group>>('GET', '/groups', { query: { limit: o.limit, offset: o.offset, kind: o.kind, name: o.name } });
      printPage(ctx, page, o.json, [
        { header: 'NAME', value: (g) => g.name },
        { header: 'KIND', value: (g) => g.kind },
        { header: 'MODE', value: (g) => g.mode ?? '-' },
        { header: 'MEMBERS', value: (g) => g.members },
        { header: 'CRITERIA', value: (g) => g.criteria.map((c) => `${c.key} ${c.op} ${c.value}`).join(' & ') || '-' },
      ]);
    });
}
