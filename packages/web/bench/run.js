/**
 * `npm run bench:web`: what the browser downloads and how the network map performs.
 *
 * 1. Starts the built controller (which serves packages/web/dist) on a fresh data dir and free
 *    ports, and feeds it as an agent would over gRPC: 2,000 workloads in 40 services and 10,000
 *    distinct conversations between them (10 % violations, 4 % denies).
 * 2. In Debian's chromium (playwright-core, headless, 1440×900): the JavaScript fetched for the
 *    first page (login) and after signing in (dashboard), gzip-compressed as a server would send
 *    it (level 9, the files' own bytes), chunk by chunk.
 * 3. The map of all 2,000 workloads: time from the click that shows them (the map starts rolled up
 *    to groups past 500 nodes) to the first frame with every node and edge drawn, and to a settled
 *    layout; then frames per second while panning with the mouse for 3 s (a drag whose moves are
 *    sent as fast as the browser takes them), counted from the renderer's frame counter: the map
 *    draws at most once per animation frame, so 60 is the ceiling. Then the same for zooming with
 *    the wheel (frames are the last full frame scaled while the wheel turns), and the cost of the
 *    full frame drawn once the wheel rests (the renderer's own timing, rasterisation included).
 *
 * Options: --workloads N (2000), --edges N (10000), --pan-seconds N (3).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { AgentService, Direction, Verdict, WorkloadState } from '@mseg/proto';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const MAIN = join(root, 'packages', 'controller', 'dist', 'main.js');
const DIST = join(root, 'packages', 'web', 'dist');
const PASSWORD = 'bench-admin-password';
const JOIN_TOKEN = 'bench-join-token-0123456789';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(argv[i + 1]);
};
const WORKLOADS = opt('workloads', 2000);
const EDGES = opt('edges', 10000);
const PAN_SECONDS = opt('pan-seconds', 3);
const SERVICES = 40;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startController() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mseg-web-bench-'));
  const [api, grpc] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [MAIN, '--no-tls', '--host', '127.0.0.1', '--api-port', String(api), '--grpc-port', String(grpc), '--data-dir', dataDir], {
    env: { ...process.env, MSEG_ADMIN_PASSWORD: PASSWORD, MSEG_JOIN_TOKEN: JOIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  while (!/REST API on /.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`controller did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${api}`, grpcUrl: `http://127.0.0.1:${grpc}`, stop };
}

const ip = (i) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

async function seed(grpcUrl) {
  const session = new Http2SessionManager(grpcUrl);
  try {
    const client = createClient(AgentService, createGrpcTransport({ baseUrl: grpcUrl, sessionManager: session }));
    const reg = await client.register({ joinToken: JOIN_TOKEN, host: 'bench-host', agentVersion: '0.1.0', previousAgentId: '' });
    const opts = { headers: { authorization: `Bearer ${reg.agentId}.${reg.credential}` } };
    const workloads = Array.from({ length: WORKLOADS }, (_, i) => ({
      id: `w-${i}`,
      name: `svc${i % SERVICES}-${Math.floor(i / SERVICES)}`,
      image: `registry.example/svc${i % SERVICES}:1`,
      labels: {},
      service: `svc${i % SERVICES}`,
      host: 'bench-host',
      pid: 100,
      netns: '/proc/100/ns/net',
      interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: [ip(i)] }],
      state: WorkloadState.RUNNING,
      reason: '',
    }));
    await client.reportWorkloads({ full: true, workloads }, opts);
    const now = Math.floor(Date.now() / 1000);
    const conns = [];
    for (let i = 0; i < EDGES; i++) {
      // Distinct (client, server) pairs: server i mod N, client at an offset that grows per round.
      const s = i % WORKLOADS;
      const c = (s + 1 + Math.floor(i / WORKLOADS) * 37) % WORKLOADS;
      const verdict = i % 25 === 0 ? Verdict.DENY : i % 10 === 0 ? Verdict.VIOLATE : Verdict.ALLOW;
      conns.push({
        workloadId: `w-${s}`,
        client: ip(c),
        server: ip(s),
        serverPort: 8000 + (i % 50),
        proto: 6,
        app: 'HTTP',
        direction: Direction.INGRESS,
        ruleId: 0,
        action: verdict,
        bytesToServer: BigInt(1000 + ((i * 7919) % 5_000_000)),
        bytesToClient: BigInt(1000 + ((i * 104729) % 50_000_000)),
        packetsToServer: 10n,
        packetsToClient: 10n,
        sessions: 1 + (i % 7),
        firstSeen: now - 30,
        lastSeen: now,
        violations: verdict === Verdict.ALLOW ? 0 : 1,
        threatSeverity: 0,
      });
    }
    for (let i = 0; i < conns.length; i += 2500) {
      await client.reportConnections({ batchId: `bench-${i}`, connections: conns.slice(i, i + 2500), dnsAnswers: [] }, opts);
    }
  } finally {
    session.abort();
  }
}

function gzipOf(urlPath) {
  return gzipSync(readFileSync(join(DIST, new URL(urlPath).pathname)), { level: 9 }).length;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function main() {
  const ctl = await startController();
  let context;
  const profile = mkdtempSync(join(tmpdir(), 'mseg-bench-chromium-'));
  try {
    const t0 = Date.now();
    await seed(ctl.grpcUrl);
    const seedMs = Date.now() - t0;

    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.MSEG_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const page = await context.newPage();
    const scripts = new Set();
    page.on('response', (r) => {
      if (r.url().endsWith('.js')) scripts.add(r.url());
    });

    // 1. First page (login), then the dashboard after signing in.
    await page.goto(`${ctl.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.waitForLoadState('networkidle');
    const loginJs = [...scripts];
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.waitForLoadState('networkidle');
    const dashboardJs = [...scripts];
    const sum = (list) => list.reduce((s, u) => s + gzipOf(u), 0);

    // 2. The map: rolled up first, then every workload.
    await page.getByRole('menuitem', { name: 'Network map' }).click();
    const canvas = page.getByTestId('network-map');
    await canvas.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=network-map]')?.dataset.edges) > 0, null, { timeout: 60_000 });
    const mapJs = [...scripts];
    const rolledUp = { nodes: await canvas.getAttribute('data-nodes'), edges: await canvas.getAttribute('data-edges') };
    // Timestamps in the page: the click, the first frame of the full scene, the last layout frame.
    await page.evaluate((rolledUpNodes) => {
      const c = document.querySelector('[data-testid=network-map]');
      const marks = (window.__benchMarks = { first: 0, last: 0, start: 0 });
      new MutationObserver(() => {
        // Frames before the click (the rolled-up map still settling) do not count.
        if (marks.start === 0 || Number(c.dataset.nodes) < 2 || c.dataset.nodes === rolledUpNodes) return;
        const now = performance.now();
        if (marks.first === 0) marks.first = now;
        marks.last = now;
      }).observe(c, { attributes: true, attributeFilter: ['data-frames'] });
    }, rolledUp.nodes);
    await page.evaluate(() => (window.__benchMarks.start = performance.now()));
    await page.getByRole('button', { name: 'Show workloads' }).click();
    await page.waitForFunction((n) => document.querySelector('[data-testid=network-map]')?.dataset.nodes === String(n), WORKLOADS, { timeout: 60_000 });
    // Settled: no frame for a second (the layout stops drawing once it has converged).
    let lastFrames = -1;
    for (;;) {
      const f = Number(await canvas.getAttribute('data-frames'));
      if (f === lastFrames) break;
      lastFrames = f;
      await page.waitForTimeout(1000);
    }
    const marks = await page.evaluate(() => window.__benchMarks);
    const drawn = { nodes: Number(await canvas.getAttribute('data-nodes')), edges: Number(await canvas.getAttribute('data-edges')) };

    // 3. Pan: a mouse drag, moves as fast as the browser takes them, for PAN_SECONDS. The whole
    // map in view first (the view is still the rolled-up map's fit): every node and edge on screen.
    const fitted = Number(await canvas.getAttribute('data-frames'));
    await page.getByRole('button', { name: 'Fit to view' }).click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=network-map]')?.dataset.frames) > n, fitted);
    const box = await canvas.boundingBox();
    // Start in the fit's empty margin: a press on a node would drag the node, not the map.
    await page.mouse.move(box.x + 8, box.y + 8);
    await page.mouse.down();
    const framesBefore = Number(await canvas.getAttribute('data-frames'));
    const panStart = Date.now();
    let step = 0;
    while (Date.now() - panStart < PAN_SECONDS * 1000) {
      // Several moves in flight at once: one awaited move per round trip would cap the input
      // rate (and so the frame rate) at the protocol's latency, not the map's.
      const moves = [];
      for (let i = 0; i < 4; i++) {
        step++;
        moves.push(page.mouse.move(box.x + 200 + 150 * Math.sin(step / 20), box.y + 200 + 100 * Math.cos(step / 20)));
      }
      await Promise.all(moves);
    }
    const panMs = Date.now() - panStart;
    await page.mouse.up();
    const frames = Number(await canvas.getAttribute('data-frames')) - framesBefore;

    // 4. Zoom: every frame is a full drawing of all nodes and edges (no cached copy applies).
    await page.waitForTimeout(500);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const zoomBefore = Number(await canvas.getAttribute('data-frames'));
    const zoomStart = Date.now();
    let z = 0;
    while (Date.now() - zoomStart < PAN_SECONDS * 1000) {
      const wheels = [];
      for (let i = 0; i < 4; i++) wheels.push(page.mouse.wheel(0, ++z % 40 < 20 ? -15 : 15));
      await Promise.all(wheels);
    }
    const zoomMs = Date.now() - zoomStart;
    const zoomFrames = Number(await canvas.getAttribute('data-frames')) - zoomBefore;
    // The full frame after the wheel rests (150 ms), then its cost as the renderer timed it.
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=network-map]')?.dataset.frames) > n, zoomBefore + zoomFrames, { timeout: 10_000 });
    const fullFrameMs = await canvas.getAttribute('data-full-frame-ms');
    // Zoomed in 6× from the fit, where labels are drawn: the full frame there.
    const zoomedIn = Number(await canvas.getAttribute('data-frames'));
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -100);
    // The frame after the rest: frames have stopped coming and one was drawn since the wheel.
    for (let f = -1; ; ) {
      await page.waitForTimeout(400);
      const now = Number(await canvas.getAttribute('data-frames'));
      if (now === f && now > zoomedIn) break;
      f = now;
    }
    const zoomedInFullFrameMs = await canvas.getAttribute('data-full-frame-ms');

    const rows = [
      ['host', `${cpus().length} × ${cpus()[0]?.model ?? '?'}`],
      ['chromium', await context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent))],
      ['seeded over gRPC', `${WORKLOADS} workloads, ${EDGES} conversations in ${seedMs} ms`],
      ['first page (login): JS gzip', `${kb(sum(loginJs))} in ${loginJs.length} files (target ≤ 500 KB)`],
      ['after sign-in (dashboard): JS gzip', `${kb(sum(dashboardJs))} in ${dashboardJs.length} files`],
      ['with the map: JS gzip', `${kb(sum(mapJs))} in ${mapJs.length} files`],
      ['map rolled up (> 500 workloads)', `${rolledUp.nodes} nodes, ${rolledUp.edges} edges`],
      ['map of all workloads drawn', `${drawn.nodes} nodes, ${drawn.edges} edges`],
      ['time to first draw (click → first full frame)', `${(marks.first - marks.start).toFixed(0)} ms`],
      ['time to settled layout', `${(marks.last - marks.start).toFixed(0)} ms`],
      ['panning', `${((frames * 1000) / panMs).toFixed(1)} fps (${frames} frames in ${panMs} ms; target ≥ 30)`],
      ['zooming (wheel)', `${((zoomFrames * 1000) / zoomMs).toFixed(1)} fps (${zoomFrames} frames in ${zoomMs} ms; target ≥ 30)`],
      ['full frame after the wheel rests, whole map in view', `${fullFrameMs} ms`],
      ['the same zoomed in 6× (labels on)', `${zoomedInFullFrameMs} ms`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log('\nWeb UI benchmark (npm run bench:web)\n');
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    await ctl.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
