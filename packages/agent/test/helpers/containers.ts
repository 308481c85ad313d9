/**
 * Containers and networks made by one test file, all labelled with its run prefix so they can be
 * removed together in afterAll, whatever failed before.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 60_000 });
  return stdout.trim();
}

export class TestDocker {
  /** Unique per run; every name and the `mseg.test` label carry it. */
  readonly prefix = `mseg-t-${randomBytes(3).toString('hex')}`;

  name(what: string): string {
    return `${this.prefix}-${what}`;
  }

  /** `docker run -d` with the run's label; returns the container id. */
  async run(what: string, args: string[]): Promise<string> {
    return docker('run', '-d', '--name', this.name(what), '--label', `mseg.test=${this.prefix}`, ...args);
  }

  async network(what: string, args: string[] = []): Promise<string> {
    return docker('network', 'create', '--label', `mseg.test=${this.prefix}`, ...args, this.name(what));
  }

  /** Removes every container, then every network, of this run; never throws (runs in afterAll). */
  async cleanup(): Promise<void> {
    const filter = `label=mseg.test=${this.prefix}`;
    const ids = (await docker('ps', '-aq', '--filter', filter).catch(() => '')).split('\n').filter(Boolean);
    // A paused container cannot be removed with -f on every engine version: unpause first.
    await Promise.all(ids.map((id) => docker('unpause', id).catch(() => '')));
    if (ids.length) await docker('rm', '-f', ...ids).catch(() => '');
    const nets = (await docker('network', 'ls', '-q', '--filter', filter).catch(() => '')).split('\n').filter(Boolean);
    if (nets.length) await docker('network', 'rm', ...nets).catch(() => '');
  }

  /** What is left of this run (should be nothing after cleanup). */
  async leftovers(): Promise<string[]> {
    const filter = `label=mseg.test=${this.prefix}`;
    const c = await docker('ps', '-aq', '--filter', filter);
    const n = await docker('network', 'ls', '-q', '--filter', filter);
    return [...c.split('\n'), ...n.split('\n')].filter(Boolean);
  }
}
