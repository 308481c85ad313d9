import { execFile } from 'node:child_process';
import type { Exec } from './types.js';

/** Exec through execFile (no shell); the error names the command and carries its stderr. */
export const execFileText: Exec = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
