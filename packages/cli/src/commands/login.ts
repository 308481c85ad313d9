/**
 * `mseg login [URL] [--user NAME] [--ca FILE | --insecure]`: exchanges a password for a token and
 * saves it (0600). The password comes from MSEG_PASSWORD, else from a prompt that does not echo,
 * else from the first line of stdin when stdin is not a terminal.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { ApiClient } from '../api/client.js';
import { saveSession } from '../config.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

export const DEFAULT_URL = 'https://127.0.0.1:10443';

interface LoginAnswer {
  token: string;
  expiresAt: number;
  role: string;
  username: string;
}

/** Reads one line from stdin; on a terminal the typed characters are not echoed. */
async function readPassword(prompt: string, err: (t: string) => void): Promise<string> {
  const tty = Boolean(process.stdin.isTTY);
  if (tty) err(prompt);
  const muted = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: tty });
  try {
    const line = await new Promise<string | null>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(null));
    });
    if (tty) err('\n');
    if (line === null) throw new CliError('MSEG_ERR_CLI_USAGE', 'no password: set MSEG_PASSWORD or type it at the prompt');
    return line;
  } finally {
    rl.close();
  }
}

export function loginCommand(ctx: CliContext): Command {
  return new Command('login')
    .description('log in to a controller and save the token')
    .argument('[url]', 'controller REST address', DEFAULT_URL)
    .option('-u, --user <name>', 'user name', 'admin')
    .option('--ca <file>', "PEM certificate to trust (the controller's self-signed cert.pem)")
    .addOption(new Option('--insecure', 'do not check the certificate').conflicts('ca'))
    .action(async (url: string, o: { user: string; ca?: string; insecure?: boolean }) => {
      if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new CliError('MSEG_ERR_CLI_USAGE', `url: expected http(s)://HOST:PORT, got "${url}"`);
      const base = url.replace(/\/$/, '');
      const password = ctx.env.MSEG_PASSWORD ?? (await readPassword(`password for ${o.user}@${base}: `, ctx.io.err));
      const client = new ApiClient(base, { ca: o.ca, insecure: o.insecure });
      const answer = await client.json<LoginAnswer>('POST', '/auth/login', { body: { username: o.user, password } });
      const path = saveSession(ctx.env, {
        url: base,
        token: answer.token,
        username: answer.username,
        role: answer.role,
        expiresAt: answer.expiresAt,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.insecure ? { insecure: true } : {}),
      });
      ctx.io.out(`logged in to ${base} as ${answer.username} (${answer.role}); token saved in ${path}\n`);
    });
}
