/**
 * vitest global setup for the agent's kernel and container tests: the bpf filesystem (bpffs.ts)
 * and a Docker engine for the run (see docker.ts). Runs once, before the test workers fork; the
 * teardown stops dockerd only if this run started it.
 */
import { ensureBpfFs } from './bpffs.js';
import { ensureDocker } from './docker.js';

export default async function setup(): Promise<() => Promise<void>> {
  ensureBpfFs();
  return ensureDocker();
}
