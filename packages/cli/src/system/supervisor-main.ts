#!/usr/bin/env node
/**
 * The supervisor process `mseg up` starts: `supervisor-main.js RUN_DIR`. It reads the layout and
 * secrets, runs the stack's processes under a Supervisor and stops them on SIGTERM/SIGINT.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { componentSpecs } from './components.js';
import { paths, readLayout } from './layout.js';
import { Supervisor } from './supervisor.js';

const runDir = process.argv[2];
const layout = runDir ? readLayout(runDir) : null;
if (!layout) {
  process.stderr.write(`mseg supervisor: no up.json in ${runDir ?? '(no run dir given)'}\n`);
  process.exit(2);
}
const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
const secret = (file: string) => readFileSync(file, 'utf8').trim();
const supervisor = new Supervisor(
  componentSpecs(layout, { adminPassword: secret(paths.adminPassword(layout)), joinToken: secret(paths.joinToken(layout)) }),
  paths.state(layout),
  log,
);
writeFileSync(paths.pid(layout, 'supervisor'), `${process.pid}\n`);
supervisor.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void supervisor.stop().then(() => {
      rmSync(paths.pid(layout, 'supervisor'), { force: true });
      process.exit(0);
    });
  });
}
