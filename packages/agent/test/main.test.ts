/**
 * The mseg-agent bin (built dist/main.js): usage errors, and a run against the real dockerd and
 * a test controller: it registers, reports a container it finds, and stops on SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkloadState } from '@mseg/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDocker } from './helpers/containers.js';
import { FakeController } from './helpers/fake-controller.js';
import { pinsOf, removePins } from './helpers/netns.js';
import { ensureImage } from './helpers/images.js';
import { waitFor } from './helpers/wait.js';

const execFileP = promisify(execFile);
const MAIN = join(import.meta.dirname, '../dist/main.js');

function runAgent(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

describe('mseg-agent usage', () => {
  it.each([
    [[], /--controller/],
    [['--controller', 'ctl', '--token', 'T'], /--controller: expected HOST:PORT/],
    [['--controller', 'ctl:18400'], /--token/],
    [['--controller', 'ctl:18400', '--token', 'T', '--verbose'], /unknown option '--verbose'/],
  ])('%j exits 2 naming the flag', async (args, message) => {
    const a = runAgent(args);
    expect(await a.exit).toBe(2);
    expect(a.stderr()).toMatch(message);
    expect(a.stderr()).toMatch(/^usage: mseg-agent/m);
  });
});

describe('mseg-agent run', () => {
  const t = new TestDocker();
  const fake = new FakeController();
  let dataDir: string;

  beforeAll(async () => {
    await fake.start();
    dataDir = mkdtempSync(join(tmpdir(), 'mseg-agent-main-'));
  });

  afterAll(async () => {
    await t.cleanup();
    // The agent leaves its plumbing in place when stopped (fail-secure); the run's capture
    // namespace goes, and with it every nv-in end and so every veth pair it made.
    await execFileP('ip', ['netns', 'del', t.prefix]).catch(() => {});
    removePins(t.prefix);
    expect((await execFileP('ip', ['netns', 'list'])).stdout).not.toContain(t.prefix);
    expect(pinsOf(t.prefix)).toEqual([]);
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers, reports the containers it finds, and exits 0 on SIGTERM', async () => {
    const id = await t.run('main', [await ensureImage('tiny'), 'sleep', '600']);
    const a = runAgent(['--controller', `127.0.0.1:${fake.port}`, '--data-dir', dataDir, '--capture-netns', t.prefix], { MSEG_JOIN_TOKEN: 'join-secret' });
    try {
      const full = await waitFor('full workload report', () => fake.of('reportWorkloads').find((c) => c.req.full === true), 20_000);
      const ws = full.req.workloads as { id: string; state: WorkloadState; interfaces: unknown[] }[];
      const mine = ws.find((w) => w.id === id);
      expect([mine?.state, mine?.interfaces.length]).toEqual([WorkloadState.RUNNING, 1]);
      expect(fake.of('register')[0].req.joinToken).toBe('join-secret');
    } finally {
      a.child.kill('SIGTERM');
    }
    expect(await a.exit).toBe(0);
  });
});
