#!/usr/bin/env node
/**
 * `mseg-controller`: parses the flags, starts the controller and stops it cleanly on SIGTERM or
 * SIGINT (a second signal forces the exit). Exit codes: 0 stopped, 1 failed, 2 bad flags.
 */
import { parseOptions, UsageError } from './server/options.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mseg-controller: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (!options) return 0;
  const adminPassword = process.env.MSEG_ADMIN_PASSWORD || undefined;
  // Loaded only once the flags are good: a usage error answers without loading the store drivers.
  const { startController } = await import('./server/start.js');
  const controller = await startController(options, { adminPassword });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(1);
      stopping = true;
      console.log(`${signal}: stopping`);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await controller.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mseg-controller: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
