/**
 * The soak (issue 6): `mseg up` on a Docker engine of its own, `mseg demo`, and for
 * MSEG_SOAK_MINUTES (30) minutes 200 short-lived containers, evenly spread, each making
 * REQUESTS HTTP calls to the demo's web front end and exiting. Printed at the end:
 *  - leaked kernel objects after the last job is gone: nv-in ports in the capture namespace
 *    beyond the running containers' own, and nv- links, mirror filters and mseg tables in the
 *    demo containers beyond their one tap each (target 0);
 *  - agent, DP and controller RSS sampled every 30 s (target flat: the last third's mean against
 *    the first third's);
 *  - the jobs' HTTP sessions: made (each job counts its own 200 answers) against the sessions the
 *    controller stored for job → web conversations (target equal).
 * Everything it made is removed at the end, also on failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { containerName, NETWORK, SERVICES } from '../src/demo/app.js';
import { run } from '../src/program.js';
import { processesWithArg } from '../src/system/processes.js';
import { startDockerd, type Dockerd } from '../test/helpers/dockerd.js';

const exec = promisify(execFile);
const MINUTES = Number(process.env.MSEG_SOAK_MINUTES ?? 30);
const JOBS = 200;
const REQUESTS = 5;
const SAMPLE_MS = 30_000;

let dir: string;
let engine: Dockerd;
const netns = `mseg-soak-${process.pid}`;
const runDir = () => join(dir, 'run');

async function mseg(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await run(args, { io: { out: (t) => (out += t), err: (t) => (err += t), interactive: false }, env: { MSEG_CONFIG_DIR: join(dir, 'config') } });
  if (code !== 0) throw new Error(`mseg ${args.join(' ')}: ${err}`);
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sh = async (argv: string[]) => (await exec(argv[0], argv.slice(1), { timeout: 30_000, maxBuffer: 16 << 20 })).stdout;

function rssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Math.round(Number(kb[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function children(): Record<string, number | undefined> {
  const s = JSON.parse(readFileSync(join(runDir(), 'state.json'), 'utf8')) as { children: Record<string, { pid: number | null }> };
  const agent = s.children.agent.pid ?? undefined;
  // The agent's command line names the DP's socket too (--dp-socket).
  const dp = processesWithArg(join(runDir(), 'dp.sock')).find((pid) => pid !== agent);
  return { controller: s.children.controller.pid ?? undefined, agent, dp };
}

async function leaks(): Promise<string[]> {
  const out: string[] = [];
  const running = (await engine.docker('ps', '-q')).split('\n').filter(Boolean);
  const ports = (JSON.parse(await sh(['ip', '-n', netns, '-j', 'link', 'show'])) as { ifname: string }[]).filter((l) => l.ifname.startsWith('nv-in-'));
  // One tap per running container's interface; anything more belongs to a container that is gone.
  if (ports.length > running.length) out.push(`${ports.length - running.length} nv-in port(s) beyond the ${running.length} running containers`);
  for (const s of SERVICES) {
    const pid = Number(await engine.docker('inspect', '-f', '{{.State.Pid}}', containerName(s.name)));
    const ns = ['nsenter', `--net=/proc/${pid}/ns/net`, '--'];
    const links = (JSON.parse(await sh([...ns, 'ip', '-j', 'link', 'show'])) as { ifname: string }[]).filter((l) => l.ifname.startsWith('nv-'));
    if (links.length > 1) out.push(`${s.name}: ${links.length} nv- links`);
    for (const hook of ['ingress', 'egress']) {
      const filters = JSON.parse((await sh([...ns, 'tc', '-j', 'filter', 'show', 'dev', 'eth0', hook])).trim() || '[]') as { options?: { actions?: { kind: string }[] } }[];
      // u32 lists its hash table as an entry of its own: count the mirror actions.
      const n = filters.flatMap((f) => f.options?.actions ?? []).filter((a) => a.kind === 'mirred').length;
      if (n > 1) out.push(`${s.name}: ${n} ${hook} filters`);
    }
    const tables = (JSON.parse(await sh([...ns, 'nft', '-j', 'list', 'tables'])).nftables as { table?: { name: string } }[]).filter((x) => x.table?.name.startsWith('mseg'));
    if (tables.length) out.push(`${s.name}: ${tables.length} mseg table(s) in Monitor`);
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mseg-soak-'));
  engine = await startDockerd(join(dir, 'docker'));
  const flags = ['--run-dir', runDir(), '--log-dir', join(dir, 'log'), '--data-dir', join(dir, 'data'), '--netns', netns, '--host', '127.0.0.1'];
  flags.push('--api-port', String(await freePort()), '--grpc-port', String(await freePort()), '--docker-socket', engine.socket);
  await mseg(['up', ...flags]);
  await mseg(['demo', '--docker-socket', engine.socket]);
});

afterAll(async () => {
  if (dir && existsSync(join(runDir(), 'up.json'))) await mseg(['down', '--run-dir', runDir()]).catch(() => '');
  await engine?.stop();
  await sh(['ip', 'netns', 'del', netns]).catch(() => '');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`soak: demo plus ${JOBS} short-lived containers over ${MINUTES} min`, async () => {
  const image = (await engine.docker('inspect', '-f', '{{.Config.Image}}', containerName('web'))).trim();
  const start = Date.now();
  const samples: { t: number; controller: number | null; agent: number | null; dp: number | null }[] = [];
  const sample = () => {
    const p = children();
    samples.push({ t: Math.round((Date.now() - start) / 1000), controller: rssMiB(p.controller), agent: rssMiB(p.agent), dp: rssMiB(p.dp) });
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const gap = (MINUTES * 60_000) / JOBS;
  const jobs: string[] = [];
  const jobRuns: Promise<void>[] = [];
  let ok = 0;
  try {
    for (let i = 0; i < JOBS; i++) {
      const due = start + i * gap;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const name = `soak-job-${i}`;
      // Each job counts the 200s it got; its exit code is that count, read by `docker wait`.
      const script = `n=0; for i in $(seq ${REQUESTS}); do [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' http://web/)" = 200 ] && n=$((n+1)); sleep 0.5; done; exit $n`;
      const id = await engine.docker('run', '-d', '--name', name, '--network', NETWORK, '--label', 'mseg.service=soak-job', image, 'sh', '-c', script);
      jobs.push(id);
      jobRuns.push(
        engine.docker('wait', id).then(async (code) => {
          ok += Number(code);
          await engine.docker('rm', id);
        }),
      );
    }
    await Promise.all(jobRuns);
  } finally {
    clearInterval(timer);
  }
  // Two report intervals for the last jobs' connections, and for the agent to remove their taps.
  await new Promise((r) => setTimeout(r, 15_000));
  sample();

  const left = await leaks();
  const ws = JSON.parse(await mseg(['workloads', '--json', '--limit', '1000', '--service', 'soak-job'])) as { items: { id: string }[] };
  const jobIds = new Set(jobs);
  const webId = (await engine.docker('inspect', '-f', '{{.Id}}', containerName('web'))).trim();
  const conv = JSON.parse(await mseg(['connections', '--json', '--limit', '1000', '--to', webId, '--port', '80', '--minutes', String(MINUTES + 10)])) as {
    items: { clientWorkload: string; sessions: number }[];
  };
  const stored = conv.items.filter((c) => jobIds.has(c.clientWorkload)).reduce((s, c) => s + c.sessions, 0);
  const third = Math.max(1, Math.floor(samples.length / 3));
  const mean = (xs: (number | null)[]) => Math.round(xs.reduce<number>((s, x) => s + (x ?? 0), 0) / xs.length);
  const trend = (k: 'controller' | 'agent' | 'dp') => ({ first: mean(samples.slice(0, third).map((s) => s[k])), last: mean(samples.slice(-third).map((s) => s[k])) });
  const report = {
    minutes: MINUTES,
    jobs: JOBS,
    jobWorkloadsKnown: ws.items.filter((w) => jobIds.has(w.id)).length,
    leaks: left,
    rssMiB: { controller: trend('controller'), agent: trend('agent'), dp: trend('dp') },
    samples,
    sessions: { made: ok, storedByController: stored },
  };
  process.stdout.write(`\nSOAK ${JSON.stringify(report, null, 2)}\n`);
  expect(left).toEqual([]);
  expect(stored).toBe(ok);
});
