// Acceptance of issue 4 end to end: the real mseg-agent process (with its real mseg-dp) on the
// real dockerd, reporting to the real mseg-controller process; policy made through the
// controller's REST API. The agent watches only this run's containers (--only-label) and
// captures in a namespace of this run, so parallel test files never share plumbing.
// The tests run in order and build on each other (one controller, one agent, three containers).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restClient, spawnController, type ControllerProcess } from '../../controller/test/support/process.js';
import { bypassMapPath, exName, inName } from '../src/plumbing/names.js';
import { TestDocker, docker } from './helpers/containers.js';
import { pinsOf, removePins } from './helpers/netns.js';
import { ensureImage } from './helpers/images.js';
import { waitFor } from './helpers/wait.js';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '../dist/main.js');
const TOKEN = 'acceptance-join-token';
const PASSWORD = 'acceptance-admin-pw';

const t = new TestDocker();
const capture = t.prefix;
let dir: string;
let controller: ControllerProcess;
let api: Awaited<ReturnType<typeof restClient>>;
let agent: { child: ChildProcess; out: () => string } | null = null;
let agentLog = '';
let image: string;

interface Box {
  id: string;
  ip: string;
  pid: number;
}
const box: Record<'web' | 'client' | 'watcher' | 'kv', Box> = {} as never;

function startAgent(): { child: ChildProcess; out: () => string } {
  const child = spawn(
    process.execPath,
    [MAIN, '--controller', `127.0.0.1:${controller.grpcPort}`, '--data-dir', join(dir, 'agent'), '--dp-socket', join(dir, 'dp.sock'), '--capture-netns', capture, '--only-label', `mseg.test=${t.prefix}`],
    { env: { PATH: process.env.PATH, MSEG_JOIN_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (agentLog += d));
  return { child, out: () => agentLog };
}

async function stopAgent(signal: NodeJS.Signals): Promise<void> {
  const a = agent;
  agent = null;
  if (!a || a.child.exitCode !== null || a.child.signalCode !== null) return;
  const exited = new Promise((r) => a.child.once('exit', r));
  a.child.kill(signal);
  await exited;
}

/** The DP a SIGKILLed agent leaves behind is named in the pid file; it is ours to stop. */
function killLeftDp(): void {
  try {
    const pid = Number(readFileSync(join(dir, 'dp.sock.pid'), 'utf8'));
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(dir, 'dp.sock'))) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file or that DP is gone already.
  }
}

async function sh(argv: string[], timeout = 15_000): Promise<string> {
  return (await run(argv[0], argv.slice(1), { timeout, killSignal: 'SIGKILL' })).stdout;
}

async function container(what: 'web' | 'client' | 'watcher' | 'kv', service: string, cmd: string[]): Promise<Box> {
  const id = await t.run(what, ['--network', t.name('net'), '--label', `mseg.service=${service}`, image, ...cmd]);
  const [pid, ip] = (await docker('inspect', '-f', `{{.State.Pid}} {{(index .NetworkSettings.Networks "${t.name('net')}").IPAddress}}`, id)).split(' ');
  return { id, ip, pid: Number(pid) };
}

const nsenter = (b: Box, argv: string[]) => ['nsenter', `--net=/proc/${b.pid}/ns/net`, '--', ...argv];

async function links(ns: string[]): Promise<string[]> {
  const text = await sh([...ns, 'ip', '-j', 'link', 'show']);
  return (JSON.parse(text || '[]') as { ifname: string }[]).map((l) => l.ifname);
}
const captureLinks = () => links(['ip', 'netns', 'exec', capture]);
const boxLinks = (b: Box) => links(nsenter(b, []));

/** Our mirror filters on eth0: hook and the ifindex the program copies onto (its name says). */
async function mirrorFilters(b: Box): Promise<string[]> {
  const out: string[] = [];
  for (const hook of ['ingress', 'egress']) {
    const text = await sh(nsenter(b, ['tc', '-j', 'filter', 'show', 'dev', 'eth0', hook])).catch(() => '');
    for (const f of JSON.parse(text.trim() || '[]') as { kind: string; options?: { bpf_name?: string; 'direct-action'?: boolean } }[]) {
      const to = /^mseg_mirror v\d+ map \d+ to (\d+) port \d+$/.exec(f.options?.bpf_name ?? '');
      if (f.kind === 'bpf' && f.options?.['direct-action'] && to) out.push(`${hook}:${to[1]}`);
    }
  }
  return out.sort();
}

async function tables(b: Box): Promise<string[]> {
  const text = await sh(nsenter(b, ['nft', '-j', 'list', 'tables']));
  // Only ours: Docker keeps an `ip nat` table in containers on user networks (its DNS).
  return (JSON.parse(text).nftables as { table?: { family: string; name: string } }[])
    .filter((x) => x.table?.name.startsWith('mseg'))
    .map((x) => `${x.table!.family} ${x.table!.name}`);
}

/** A device's ifindex inside the container (eth0's is part of its tap's name). */
async function linkIndex(b: Box, dev: string): Promise<number> {
  return (JSON.parse(await sh(nsenter(b, ['ip', '-j', 'link', 'show', dev]))) as { ifindex: number }[])[0].ifindex;
}
const eth0Index = (b: Box) => linkIndex(b, 'eth0');

/** Exactly one tap (nv-ex, both mirrors onto it, nv-in) for the container. */
async function expectOneTap(b: Box): Promise<void> {
  expect((await boxLinks(b)).filter((n) => n.startsWith('nv-'))).toEqual([exName('eth0')]);
  const ex = await linkIndex(b, exName('eth0'));
  expect(await mirrorFilters(b)).toEqual([`egress:${ex}`, `ingress:${ex}`]);
  const ifindex = await eth0Index(b);
  expect((await captureLinks()).filter((n) => n === inName(b.id, ifindex))).toHaveLength(1);
}

/** Our taps in the capture namespace: nv-in-* only of the given containers, one each. */
async function expectNoOrphans(boxes: Box[]): Promise<void> {
  const want: string[] = [];
  for (const b of boxes) want.push(inName(b.id, await eth0Index(b)));
  expect((await captureLinks()).filter((n) => n.startsWith('nv-in-')).sort()).toEqual(want.sort());
}

async function rest(method: string, path: string, body?: unknown): Promise<any> {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
  return r.json;
}

/** TCP connect from the client; true when it connected within `timeoutS`. */
async function connects(ip: string, port: number, timeoutS = 2): Promise<boolean> {
  const r = await run('docker', ['exec', box.client.id, 'bash', '-c', `timeout ${timeoutS} bash -c 'exec 3<>/dev/tcp/${ip}/${port}' && echo ok`], { timeout: 20_000 }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  return r.stdout.includes('ok');
}

async function httpOk(ip: string): Promise<boolean> {
  const r = await run('docker', ['exec', box.client.id, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', `http://${ip}/`], { timeout: 20_000 }).catch(() => ({ stdout: '' }));
  return r.stdout === '200';
}

const webService = () => `${t.prefix}-web`;
const clientService = () => `${t.prefix}-client`;
const kvService = () => `${t.prefix}-kv`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mseg-accept-'));
  image = await ensureImage('web');
  controller = await spawnController({ dataDir: join(dir, 'controller'), adminPassword: PASSWORD, env: { MSEG_JOIN_TOKEN: TOKEN } });
  api = await restClient(controller.apiUrl, 'admin', PASSWORD);
  await t.network('net');
  agent = startAgent();
});

afterAll(async () => {
  await stopAgent('SIGTERM');
  killLeftDp();
  // Removing the containers removes their namespaces and with them every nv-ex, mirror and table.
  await t.cleanup();
  await run('ip', ['netns', 'del', capture]).catch(() => {});
  removePins(capture);
  await controller?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(await t.leftovers()).toEqual([]);
  expect((await sh(['ip', 'netns', 'list'])).includes(capture)).toBe(false);
  expect(pinsOf(capture)).toEqual([]);
}, 120_000);

describe('mseg-agent with the real controller and dockerd', () => {
  it('reports an HTTP server and its client, and an HTTP connection between them, app HTTP, within 10 s', async () => {
    box.web = await container('web', webService(), []);
    const t0 = Date.now();
    box.client = await container('client', clientService(), ['bash', '-c', `while true; do curl -s -o /dev/null -m 2 http://${t.name('web')}/; sleep 0.5; done`]);
    const conn = await waitFor(
      'HTTP connection client → web at the controller',
      async () => {
        const r = await api('GET', `/api/v1/connections?from=${box.client.id}&to=${box.web.id}&port=80`);
        // 404 names a workload the controller does not know yet.
        return r.status === 200 && (r.json.items as { app: string }[]).find((c) => c.app === 'HTTP');
      },
      20_000,
    );
    const took = Date.now() - t0;
    expect(conn).toMatchObject({ clientWorkload: box.client.id, serverWorkload: box.web.id, clientIp: box.client.ip, serverIp: box.web.ip, serverPort: 80, proto: 6 });
    const ws = (await rest('GET', `/api/v1/workloads?name=${t.prefix}`)).items as { id: string; state: string; service: string }[];
    expect(ws.filter((w) => w.id === box.web.id || w.id === box.client.id).map((w) => [w.service, w.state]).sort()).toEqual([
      [clientService(), 'running'],
      [webService(), 'running'],
    ]);
    expect(took, agentLog).toBeLessThan(10_000);
    await expectOneTap(box.web);
    await expectOneTap(box.client);
    // The DP found the map the agent pinned (it bypasses sessions through it).
    expect(agentLog).toContain(`session bypass map ${bypassMapPath(capture)} open`);
  });

  it('a bulk download is reported in full though the kernel, not the DP, counts most of its segments', async () => {
    // DPI follows an HTTP response for its first 64 payload segments; the rest is the kernel's to count.
    const size = 128 << 20;
    await docker('exec', box.web.id, 'dd', 'if=/dev/zero', 'of=/var/www/html/mseg-bulk', 'bs=1M', `count=${size >> 20}`, 'status=none');
    const before = (await api('GET', `/api/v1/connections?from=${box.client.id}&to=${box.web.id}&port=80`)).json.items as { bytes: number }[];
    const reported0 = before.reduce((n, c) => n + c.bytes, 0);
    const tap = inName(box.web.id, await eth0Index(box.web));
    // Frames the web's mirror copied (its tap's nv-in) against packets its eth0 moved.
    const copied = async (): Promise<number> => (JSON.parse(await sh(['ip', '-n', capture, '-j', '-s', 'link', 'show', tap])) as { stats64: { rx: { packets: number } } }[])[0].stats64.rx.packets;
    const moved = async (): Promise<number> => {
      const [rx, tx] = (await docker('exec', box.web.id, 'cat', '/sys/class/net/eth0/statistics/rx_packets', '/sys/class/net/eth0/statistics/tx_packets')).split('\n').map(Number);
      return rx + tx;
    };
    const [c0, m0] = [await copied(), await moved()];
    const got = await docker('exec', box.client.id, 'curl', '-s', '-o', '/dev/null', '-w', '%{size_download}', '-m', '20', `http://${box.web.ip}/mseg-bulk`);
    expect(Number(got)).toBe(size);
    const [c1, m1] = [await copied(), await moved()];
    expect(c1 - c0, `copied ${c1 - c0} of ${m1 - m0} packets`).toBeLessThan((m1 - m0) / 2);
    const reported = await waitFor(
      'the download’s bytes at the controller',
      async () => {
        const r = await api('GET', `/api/v1/connections?from=${box.client.id}&to=${box.web.id}&port=80`);
        const n = r.status === 200 ? (r.json.items as { bytes: number }[]).reduce((sum, c) => sum + c.bytes, 0) - reported0 : 0;
        return n >= size && n;
      },
      20_000,
    );
    // Both taps report the download; a report later the total is still one download (headers and
    // the client's loop besides the body), not two.
    await new Promise((r) => setTimeout(r, 6000));
    const items = (await api('GET', `/api/v1/connections?from=${box.client.id}&to=${box.web.id}&port=80`)).json.items as { bytes: number }[];
    const after = items.reduce((sum, c) => sum + c.bytes, 0) - reported0;
    expect([reported >= size, after < size * 1.05]).toEqual([true, true]);
  });

  it('a third container capturing on its own interface sees none of the other two’s traffic', async () => {
    box.watcher = await container('watcher', `${t.prefix}-watcher`, ['sleep', '600']);
    await waitFor('watcher plumbed', async () => (await boxLinks(box.watcher)).includes(exName('eth0')));
    // Not promiscuous: only what the network delivers to this container. Its own request to the
    // server shows the capture works; the client's requests go on all the while.
    const dump = run('docker', ['exec', box.watcher.id, 'timeout', '4', 'tcpdump', '-p', '-nn', '-l', '-i', 'eth0', 'tcp port 80'], { timeout: 20_000 }).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    await docker('exec', box.watcher.id, 'curl', '-s', '-o', '/dev/null', `http://${box.web.ip}/`);
    const lines = (await dump).stdout.split('\n').filter(Boolean);
    expect(lines.some((l) => l.includes(box.watcher.ip))).toBe(true);
    expect(lines.filter((l) => l.includes(`${box.client.ip}.`))).toEqual([]);
  });

  it('Protect: only the allowed port passes, a blocked connection is a deny violation (rule 0); back to Monitor it connects and is a violate', async () => {
    // A second listener on the server, which no rule allows.
    await docker('exec', box.web.id, 'redis-server', '--port', '8080', '--protected-mode', 'no', '--daemonize', 'yes');
    const rule = await rest('POST', '/api/v1/policies', { from: `svc.${clientService()}`, to: `svc.${webService()}`, ports: 'tcp/80', action: 'allow' });
    await rest('PATCH', `/api/v1/groups/svc.${webService()}`, { mode: 'protect' });
    await waitFor('Protect table in the server', async () => (await tables(box.web)).includes('inet mseg'), 5000);
    expect(await httpOk(box.web.ip)).toBe(true);
    expect(await connects(box.web.ip, 8080)).toBe(false);
    const deny = await waitFor(
      'deny violation',
      async () => ((await rest('GET', `/api/v1/violations?action=deny&to=${box.web.id}`)).items as { serverPort: number }[]).find((v) => v.serverPort === 8080),
      15_000,
    );
    expect(deny).toMatchObject({ clientWorkload: box.client.id, serverWorkload: box.web.id, ruleId: 0, action: 'deny' });
    expect(rule.id).toBeGreaterThan(0);

    await rest('PATCH', `/api/v1/groups/svc.${webService()}`, { mode: 'monitor' });
    await waitFor('table gone in Monitor', async () => !(await tables(box.web)).includes('inet mseg'), 5000);
    expect(await connects(box.web.ip, 8080)).toBe(true);
    const violate = await waitFor(
      'violate violation',
      async () => ((await rest('GET', `/api/v1/violations?action=violate&to=${box.web.id}`)).items as { serverPort: number }[]).find((v) => v.serverPort === 8080),
      20_000,
    );
    expect(violate).toMatchObject({ clientWorkload: box.client.id, serverWorkload: box.web.id, action: 'violate' });
  });

  it('application rule: a non-HTTP protocol on the HTTP port is reset within 1 s of being identified', async () => {
    box.kv = await container('kv', kvService(), ['redis-server', '--port', '80', '--protected-mode', 'no']);
    // The service group appears once the controller has the workload.
    await waitFor('kv service group', async () => (await api('GET', `/api/v1/groups/svc.${kvService()}`)).status === 200);
    await rest('POST', '/api/v1/policies', { from: `svc.${clientService()}`, to: `svc.${kvService()}`, ports: 'tcp/80', apps: ['HTTP'], action: 'allow' });
    await rest('PATCH', `/api/v1/groups/svc.${kvService()}`, { mode: 'protect' });
    await waitFor('Protect table in kv', async () => (await tables(box.kv)).includes('inet mseg'), 10_000);
    await waitFor('kv plumbed', async () => (await mirrorFilters(box.kv)).length === 2, 10_000);
    // Redis on one connection, a PING every 100 ms for 4 s; each answer is timestamped.
    // Writes to a reset connection must fail, not kill the shell with SIGPIPE.
    const script = `trap '' PIPE
exec 3<>/dev/tcp/${box.kv.ip}/80 || exit 9
for i in $(seq 1 40); do
  printf '*1\\r\\n$4\\r\\nPING\\r\\n' >&3 || { echo "end $(date +%s%N) write"; exit 1; }
  IFS= read -r -t 1 line <&3 || { echo "end $(date +%s%N) read"; exit 1; }
  echo "pong $(date +%s%N) $line"
  sleep 0.1
done
echo done`;
    const r = await run('docker', ['exec', box.client.id, 'bash', '-c', script], { timeout: 30_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const lines = r.stdout.split('\n').filter(Boolean);
    const pongs = lines.filter((l) => l.startsWith('pong'));
    // The first PING is what identifies Redis (it may still be answered); the reset follows.
    expect(pongs.length, r.stdout).toBeGreaterThan(0);
    expect(lines.at(-1), r.stdout).toMatch(/^end /);
    const first = Number(pongs[0].split(' ')[1]) / 1e6;
    const end = Number(lines.at(-1)!.split(' ')[1]) / 1e6;
    expect(end - first, r.stdout).toBeLessThan(1000 + 1000);
    expect(pongs.length, r.stdout).toBeLessThanOrEqual(10);
  });

  it('with the agent and DP stopped, Protect containers stay protected', async () => {
    await rest('PATCH', `/api/v1/groups/svc.${webService()}`, { mode: 'protect' });
    await waitFor('Protect table in the server', async () => (await tables(box.web)).includes('inet mseg'), 5000);
    await stopAgent('SIGTERM');
    expect(await connects(box.web.ip, 8080)).toBe(false);
    expect(await httpOk(box.web.ip)).toBe(true);
    expect(await tables(box.web)).toContain('inet mseg');
    expect(await tables(box.kv)).toContain('inet mseg');
    agent = startAgent();
  });

  it('SIGKILL mid-reconcile and a restart leave exactly one correct set of links, filters and tables', async () => {
    const extra: Box[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await t.run(`extra${i}`, ['--network', t.name('net'), '--label', `mseg.service=${webService()}`, image, 'sleep', '600']);
      const [pid, ip] = (await docker('inspect', '-f', `{{.State.Pid}} {{(index .NetworkSettings.Networks "${t.name('net')}").IPAddress}}`, id)).split(' ');
      extra.push({ id, pid: Number(pid), ip });
    }
    // Killed while it plumbs the new containers and writes their Protect tables (they join the
    // server's Protect service).
    await waitFor('reconcile under way', async () => (await boxLinks(extra[0])).includes(exName('eth0')) || (await tables(extra[0])).length > 0, 10_000).catch(() => true);
    await stopAgent('SIGKILL');
    agent = startAgent();
    const all = [box.web, box.client, box.watcher, box.kv, ...extra];
    await waitFor(
      'every container plumbed once, every Protect one with its table',
      async () => {
        for (const b of all) if ((await mirrorFilters(b)).length !== 2) return false;
        for (const b of [box.web, box.kv, ...extra]) if (!(await tables(b)).includes('inet mseg')) return false;
        return true;
      },
      20_000,
    );
    for (const b of all) await expectOneTap(b);
    await expectNoOrphans(all);
    for (const b of [box.web, box.kv, ...extra]) expect(await tables(b)).toEqual(['inet mseg']);
    for (const b of [box.client, box.watcher]) expect(await tables(b)).toEqual([]);
    expect(await httpOk(box.web.ip)).toBe(true);
    expect(await connects(box.web.ip, 8080)).toBe(false);
    for (const b of extra) await docker('rm', '-f', b.id);
  });

  it('stop and remove a container: none of its links, filters or tables remain', async () => {
    const ifindex = await eth0Index(box.web);
    const tap = inName(box.web.id, ifindex);
    expect(await captureLinks()).toContain(tap);
    await docker('stop', '-t', '1', box.web.id);
    await docker('rm', box.web.id);
    await waitFor('tap gone', async () => !(await captureLinks()).includes(tap), 10_000);
    // The namespace went with the container (and with it nv-ex, the mirrors and the table); the
    // capture side holds only the taps of the containers still running.
    await waitFor('only running containers tapped', async () => {
      try {
        await expectNoOrphans([box.client, box.watcher, box.kv]);
        return true;
      } catch {
        return false;
      }
    });
    expect(agentLog).not.toMatch(/plumbing: tap .*error/);
  });
});
