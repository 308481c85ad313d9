/**
 * The `mseg` program: one subcommand per file in commands/. `run` parses argv and maps every
 * failure to one line on stderr with its code (the controller's codes as they came) and exit 1;
 * usage errors exit 2.
 */
import { Command, CommanderError } from 'commander';
import { connectionsCommand } from './commands/connections.js';
import { demoCommand } from './commands/demo.js';
import { downCommand } from './commands/down.js';
import { groupsCommand } from './commands/groups.js';
import { loginCommand } from './commands/login.js';
import { modeCommand } from './commands/mode.js';
import { policiesCommand } from './commands/policies.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { violationsCommand } from './commands/violations.js';
import { workloadsCommand } from './commands/workloads.js';
import type { CliContext } from './context.js';
import { CliError, describeError } from './errors.js';

export const VERSION = '0.1.0';

export function createProgram(ctx: CliContext): Command {
  const program = new Command('mseg')
    .description('mseg: container micro-segmentation — run the stack on this host and drive its controller')
    .version(VERSION)
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .exitOverride();
  for (const make of [
    upCommand,
    downCommand,
    statusCommand,
    demoCommand,
    loginCommand,
    workloadsCommand,
    groupsCommand,
    policiesCommand,
    modeCommand,
    connectionsCommand,
    violationsCommand,
  ]) {
    program.addCommand(make(ctx));
  }
  // Subcommands report usage errors through the same writer and exit override as the program.
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err }).exitOverride();
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Runs one command line (without node and script); resolves with the exit code. */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await createProgram(ctx).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end as "errors" with exit code 0; commander has printed them already.
      return e.exitCode === 0 ? 0 : 2;
    }
    ctx.io.err(`mseg: ${describeError(e)}\n`);
    return e instanceof CliError && e.code === 'MSEG_ERR_CLI_USAGE' ? 2 : 1;
  }
}
