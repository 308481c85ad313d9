/**
 * `mseg policies list|apply -f FILE|export`: the ordered rules; apply imports a policy document
 * (YAML or JSON, as `export` writes it) and is idempotent; export prints the document.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { Page } from '../api/client.js';
import { listCommand, printPage, sessionClient, type CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { progress } from '../output/io.js';
import { formatTime } from '../output/table.js';

interface Rule {
  id: number;
  from: string;
  to: string;
  ports: string;
  apps: string[];
  action: string;
  enabled: boolean;
  hits: number;
  lastHit: number | null;
  comment: string;
}

interface ImportResult {
  groupsCreated: number;
  groupsUpdated: number;
  rulesCreated: number;
  rulesUpdated: number;
  rulesDeleted: number;
  reordered: boolean;
  revision: number | null;
}

function listSub(ctx: CliContext): Command {
  return listCommand('list', 'list rules in evaluation order')
    .option('--group <name>', 'rules from or to this group')
    .action(async (o: { json?: boolean; limit: number; offset: number; group?: string }) => {
      const page = await sessionClient(ctx).json<Page<Rule>>('GET', '/policies', { query: { limit: o.limit, offset: o.offset, group: o.group } });
      printPage(ctx, page, o.json, [
        { header: 'ID', value: (r) => r.id },
        { header: 'FROM', value: (r) => r.from },
        { header: 'TO', value: (r) => r.to },
        { header: 'PORTS', value: (r) => r.ports },
        { header: 'APPS', value: (r) => r.apps.join(',') },
        { header: 'ACTION', value: (r) => r.action },
        { header: 'ENABLED', value: (r) => (r.enabled ? 'yes' : 'no') },
        { header: 'HITS', value: (r) => r.hits },
        { header: 'LAST HIT', value: (r) => formatTime(r.lastHit) },
        { header: 'COMMENT', value: (r) => r.comment },
      ]);
    });
}

function applySub(ctx: CliContext): Command {
  return new Command('apply')
    .description('make the policy match a document (YAML or JSON); applying it again changes nothing')
    .requiredOption('-f, --file <file>', 'policy document (as `mseg policies export` writes it); - for stdin')
    .option('--replace', 'also delete rules the document does not list and take its order')
    .option('--json', 'print the answer as JSON')
    .action(async (o: { file: string; replace?: boolean; json?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
      } catch (e) {
        throw new CliError('MSEG_ERR_CLI_FILE', `${o.file}: ${(e as Error).message}`, { cause: e });
      }
      // JSON is valid YAML, but the controller reports positions in the format it was given.
      const json = /^\s*[{[]/.test(text);
      const p = progress(ctx.io, `apply ${o.file}`);
      p.step('sending to the controller');
      let r: ImportResult;
      try {
        r = await sessionClient(ctx).json<ImportResult>('POST', '/policies/import', {
          query: { mode: o.replace ? 'replace' : 'merge' },
          body: text,
          contentType: json ? 'application/json' : 'application/yaml',
        });
      } catch (e) {
        p.fail('refused');
        throw e;
      }
      p.done(r.revision === null ? 'nothing to change' : `policy revision ${r.revision}`);
      if (o.json) {
        ctx.io.out(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      ctx.io.out(
        `groups: ${r.groupsCreated} created, ${r.groupsUpdated} updated; rules: ${r.rulesCreated} created, ${r.rulesUpdated} updated, ${r.rulesDeleted} deleted` +
          `${r.reordered ? '; reordered' : ''}; revision ${r.revision ?? 'unchanged'}\n`,
      );
    });
}

function exportSub(ctx: CliContext): Command {
  return new Command('export')
    .description('print groups and rules as a document `policies apply` takes')
    .addOption(new Option('--format <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
    .action(async (o: { format: 'yaml' | 'json' }) => {
      const text = await sessionClient(ctx).text('GET', '/policies/export', { query: { format: o.format } });
      ctx.io.out(o.format === 'json' ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text);
    });
}

export function policiesCommand(ctx: CliContext): Command {
  return new Command('policies').description('list, apply or export the policy').addCommand(listSub(ctx), { isDefault: true }).addCommand(applySub(ctx)).addCommand(exportSub(ctx));
}
