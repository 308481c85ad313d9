#!/usr/bin/env node
import { Command } from 'commander';
import { registerReplay } from './replay-command.js';
import { registerRun } from './run-command.js';

const program = new Command('mseg-dp').description('mseg data plane').showHelpAfterError();
registerReplay(program);
registerRun(program);

program.parseAsync(process.argv).catch((err: Error & { code?: string }) => {
  process.stderr.write(`mseg-dp: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
  process.exit(1);
});
