/** What every command gets: where to write, the environment, and a client of the saved session. */
import { Command, Option } from 'commander';
import { ApiClient } from './api/client.js';
import { loadSession } from './config.js';
import { CliError } from './errors.js';
import type { Io } from './output/io.js';
import { renderTable, type Column } from './output/table.js';

export interface CliContext {
  io: Io;
  env: NodeJS.ProcessEnv;
}

export function sessionClient(ctx: CliContext): ApiClient {
  const s = loadSession(ctx.env);
  if (!s) throw new CliError('MSEG_ERR_CLI_NOT_LOGGED_IN');
  return new ApiClient(s.url, { token: s.token, ca: s.ca, insecure: s.insecure });
}

/** The options every list command shares. */
export function listCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--json', 'print the answer as JSON')
    .addOption(new Option('--limit <n>', 'page size').default(100).argParser(positiveInt('--limit')))
    .addOption(new Option('--offset <n>', 'items to skip').default(0).argParser(positiveInt('--offset', true)));
}

export function positiveInt(flag: string, zero = false) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || (!zero && Number(v) === 0)) throw new CliError('MSEG_ERR_CLI_USAGE', `${flag}: expected a ${zero ? 'non-negative' : 'positive'} integer, got "${v}"`);
    return Number(v);
  };
}

/** A page as a table (with a "N of TOTAL" line when there are more) or as the JSON answer. */
export function printPage<T>(ctx: CliContext, page: { items: T[]; total: number; offset: number }, json: boolean | undefined, columns: readonly Column<T>[]): void {
  if (json) {
    ctx.io.out(`${JSON.stringify(page, null, 2)}\n`);
    return;
  }
  ctx.io.out(renderTable(page.items, columns));
  if (page.items.length < page.total) {
    ctx.io.out(`(${page.offset + 1}-${page.offset + page.items.length} of ${page.total}; --offset ${page.offset + page.items.length} for more)\n`);
  }
}
