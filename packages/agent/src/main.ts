#!/usr/bin/env node
/**
 * mseg-agent: `mseg-agent --controller HOST:18400 --token TOKEN [--docker-socket PATH]
 * [--dp-socket PATH] [--data-dir DIR] [--capture-netns NAME] [--only-label KEY=VALUE]`. Exit 2 on a usage error (naming the flag), 0 after
 * SIGTERM/SIGINT once the loops have stopped.
 */
import { Agent } from './agent.js';
import { UsageError, parseOptions } from './cli/options.js';

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

let agent: Agent;
try {
  agent = new Agent(parseOptions(process.argv.slice(2)), log);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`mseg-agent: ${err.message}\nusage: mseg-agent --controller HOST:PORT --token TOKEN [--docker-socket PATH] [--dp-socket PATH] [--data-dir DIR] [--capture-netns NAME] [--only-label KEY=VALUE]\n`);
  process.exit(2);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`agent: ${signal}, stopping`);
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`agent: stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  });
}

agent.start().catch((err: unknown) => {
  log(`agent: start failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
