// Cost of a Protect table with 10,000 allowed peers: two containers (iperf3 + redis server, and a
// client), the server's namespace holding the table the agent would write for it, made by the
// agent's own compile + render (enforce/table-ops renderSpec): one allow rule from 10,000 peers
// plus the client to the server on tcp/5201 and tcp/6379, one from the server to the same 10,000
// on tcp/443. Rounds alternate with and without the table on the same pair: iperf3 throughput,
// redis PING p50 on one kept connection (established: conntrack's fast path) and with a new
// connection per request (each SYN looks the client up in the 20,002-element peer set).
// Flags: --peers N (default 10000), --rounds N (default 5), --seconds S (iperf3, default 5).
import { join } from 'node:path';
import { cleanup, docker, flag, here, load, measurePair, median, newRun, newestImage, printTable, run, serverClientPair, spread } from './harness.js';

const { renderSpec } = await import(join(here, '../dist/enforce/table-ops.js'));
const { NFT_TABLE } = await import(join(here, '../dist/plumbing/names.js'));

const PEERS = Math.round(flag('peers', 10_000));
const ROUNDS = Math.round(flag('rounds', 5));
const SECONDS = flag('seconds', 5);

/** Peer addresses three apart in 10.200.0.0/14, so no two merge into one interval. */
const peerAddress = (i) => {
  const n = (10 << 24) + (200 << 16) + 3 * i;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
};

const image = await newestImage('mseg-test/web');
const r = newRun('peers');
const loadBefore = load();
const results = { none: [], table: [] };
const applyMs = [];
let scriptBytes = 0;
try {
  const p = await serverClientPair(r.prefix, image, 'p', false);
  const clientIp = await docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', p.c);
  const pid = await docker('inspect', '-f', '{{.State.Pid}}', p.s);
  const netns = `/proc/${pid}/ns/net`;
  const peers = Array.from({ length: PEERS }, (_, i) => peerAddress(i));
  const rules = [
    { id: 1, from: [...peers, clientIp], to: [p.ip], ports: 'tcp/5201,tcp/6379', apps: ['any'], action: 'allow' },
    { id: 2, from: [p.ip], to: peers, ports: 'tcp/443', apps: ['any'], action: 'allow' },
  ];
  const { script } = renderSpec({ workloadId: r.prefix, netns, ips: [p.ip], rules, fqdn: [], provisional: false });
  scriptBytes = script.length;
  const nft = (args, input = '') => {
    const pending = run('nsenter', [`--net=${netns}`, 'nft', ...args]);
    pending.child.stdin.end(input);
    return pending;
  };
  const apply = async () => {
    const t0 = performance.now();
    await nft(['-f', '-'], script);
    applyMs.push(performance.now() - t0);
  };
  const remove = () => nft(['delete', 'table', 'inet', NFT_TABLE]);
  // The table holds what it should: every peer (and the client) on both ports in the input set.
  await apply();
  const inSet = JSON.parse((await nft(['-j', 'list', 'set', 'inet', NFT_TABLE, 'in0_v4_p'])).stdout).nftables.find((o) => o.set).set;
  if (inSet.elem?.length !== 2 * (PEERS + 1)) throw new Error(`peer set in0_v4_p holds ${inSet.elem?.length} elements, expected ${2 * (PEERS + 1)}`);
  await remove();
  applyMs.length = 0;
  // New connection per request: the handshake's SYN is what meets the peer sets.
  const connectP50 = async () => {
    const rb = await docker('exec', p.c, 'redis-benchmark', '-h', p.ip, '-n', '3000', '-c', '1', '-k', '0', '-t', 'ping_mbulk', '--csv');
    return Number(rb.split('\n').find((l) => l.includes('PING')).split(',')[4].replace(/"/g, ''));
  };
  const measure = async () => ({ ...(await measurePair(p, SECONDS)), connectP50: await connectP50() });
  for (let i = 0; i < ROUNDS; i++) {
    for (const which of i % 2 ? ['table', 'none'] : ['none', 'table']) {
      if (which === 'table') await apply();
      try {
        results[which].push(await measure());
      } finally {
        if (which === 'table') await remove();
      }
    }
    process.stderr.write(`round ${i + 1}/${ROUNDS}: none ${results.none[i].gbps.toFixed(2)}, table ${results.table[i].gbps.toFixed(2)} Gbit/s\n`);
  }
} finally {
  await cleanup(r);
}

const col = (name, key, digits) => spread(results[name].map((x) => x[key]), digits);
const paired = results.table.map((t, i) => 100 * (1 - t.gbps / results.none[i].gbps));
const loss = 100 * (1 - median(results.table.map((x) => x.gbps)) / median(results.none.map((x) => x.gbps)));
printTable(`Protect table with ${PEERS} allowed peers (${ROUNDS} rounds, iperf3 ${SECONDS} s, ${image}; load average before ${loadBefore}, after ${load()})`, [
  ['configuration', 'iperf3 Gbit/s median (min–max)', 'PING p50 ms, kept connection | new connection per PING'],
  ['no table', col('none', 'gbps'), `${col('none', 'p50', 3)} | ${col('none', 'connectP50', 3)}`],
  [`table (loss ${loss.toFixed(1)} %; per round ${spread(paired, 1)} %)`, col('table', 'gbps'), `${col('table', 'p50', 3)} | ${col('table', 'connectP50', 3)}`],
  [`nft -f of the table (${(scriptBytes / 1024).toFixed(0)} KiB script)`, `${spread(applyMs, 0)} ms`, ''],
]);
