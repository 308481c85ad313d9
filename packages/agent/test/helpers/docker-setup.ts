/**
 * vitest global setup: a Docker engine for the run (see docker.ts). Runs once, before the test
 * workers fork; the teardown stops dockerd only if this run started it.
 */
import { ensureDocker } from './docker.js';

export default async function setup(): Promise<() => Promise<void>> {
  return ensureDocker();
}
