/**
 * The bpf filesystem the agent pins its bypass map on. Each agent mounts it when the host has
 * not; test files run in parallel would race to do so and stack mounts (one hiding the other's
 * pins), so a test run mounts it once before the workers fork.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BPFFS } from '../../src/plumbing/names.js';

function mounted(): boolean {
  // mountinfo: "id parent major:minor root mountpoint options … - fstype source …"
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === BPFFS && l.split(' - ')[1]?.startsWith('bpf '));
}

export function ensureBpfFs(): void {
  if (process.getuid?.() !== 0 || mounted()) return;
  execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS]);
}
