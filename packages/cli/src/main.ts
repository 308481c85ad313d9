#!/usr/bin/env node
/** `mseg`: see program.ts. */
import { processIo } from './output/io.js';
import { run } from './program.js';

run(process.argv.slice(2), { io: processIo(), env: process.env }).then((code) => {
  process.exitCode = code;
});
