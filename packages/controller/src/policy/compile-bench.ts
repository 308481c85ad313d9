/**
 * Compile benchmark hook (bench:controller calls it): builds a synthetic estate in memory —
 * workloads spread over services and hosts, label, CIDR and domain groups, rules between random
 * groups with ports and apps — then times the membership snapshot plus the per-workload compile
 * and the fingerprints the compile cache takes (what refresh() in compile.ts does, minus the store reads). Deterministic for a given seed.
 */
import { APP_NAMES, parseAddress } from '@mseg/dp';
import type { WorkloadFacts } from './criteria.js';
import { buildSnapshot, canonicalIp } from './membership.js';
import { compileSnapshot, fingerprint } from './compile.js';
import { CONTAINERS, EXTERNAL, NODES, type Group, type Rule, RESERVED_GROUPS, serviceGroupName } from './model.js';

export interface CompileBenchOptions {
  workloads: number;
  rules: number;
  /** Workloads per service (default 10). */
  perService?: number;
  seed?: number;
}

export interface CompileBenchResult {
  workloads: number;
  rules: number;
  groups: number;
  /** Rule specs emitted over all workloads. */
  specs: number;
  snapshotMs: number;
  compileMs: number;
  fingerprintMs: number;
  totalMs: number;
}

/** xorshift32: a fixed sequence per seed, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export function benchCompile(opts: CompileBenchOptions): CompileBenchResult {
  const rand = rng(opts.seed ?? 42);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const perService = opts.perService ?? 10;
  const services = Math.max(1, Math.ceil(opts.workloads / perService));
  const now = 0;
  const group = (name: string, kind: Group['kind'], criteria: Group['criteria'], mode: Group['mode'] = null): Group => ({
    name,
    comment: '',
    criteria,
    kind,
    mode,
    createdAt: now,
    updatedAt: now,
  });

  const workloads: WorkloadFacts[] = [];
  for (let i = 0; i < opts.workloads; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const canon = canonicalIp(ip) as string;
    workloads.push({
      id: `w${i}`,
      name: `svc${i % services}-${Math.floor(i / services)}`,
      image: `registry.local/img${i % services}:1.${i % 7}`,
      service: `svc${i % services}`,
      // About 20 workloads per host, as on a busy node.
      host: `192.168.${(i >> 13) & 255}.${(i >> 5) & 255}`,
      labels: { tier: pick(['web', 'api', 'db', 'cache']), team: `t${i % 40}` },
      ips: [canon],
      words: [parseAddress(canon) as Uint32Array],
    });
  }
  const groups: Group[] = RESERVED_GROUPS.map((n) => group(n, 'reserved', []));
  for (let s = 0; s < services; s++) groups.push(group(serviceGroupName(`svc${s}`), 'service', [{ key: 'service', op: '=', value: `svc${s}` }], s % 3 === 0 ? 'protect' : 'monitor'));
  for (let t = 0; t < 40; t++) groups.push(group(`team${t}`, 'user', [{ key: 'label', op: '=', value: `team=t${t}` }]));
  for (const tier of ['web', 'api', 'db', 'cache']) groups.push(group(`tier-${tier}`, 'user', [{ key: 'label', op: '=', value: `tier=${tier}` }]));
  for (let c = 0; c < 20; c++) groups.push(group(`net${c}`, 'user', [{ key: 'address', op: '=', value: `172.${16 + c}.0.0/16` }]));
  for (let d = 0; d < 10; d++) groups.push(group(`dom${d}`, 'user', [{ key: 'domain', op: '=', value: `*.example${d}.com` }]));
  groups.push(group('img-regex', 'user', [{ key: 'image', op: 'regex', value: '^registry\\.local/img1[0-9]:' }]));

  const names = groups.map((g) => g.name);
  const apps = APP_NAMES.slice(1);
  const rules: Rule[] = [];
  for (let i = 0; i < opts.rules; i++) {
    // Mostly service-to-service, as real policies are; some to/from the wide groups.
    const wide = rand() < 0.1;
    const from = wide ? pick(names) : serviceGroupName(`svc${Math.floor(rand() * services)}`);
    const to = rand() < 0.05 ? pick([EXTERNAL, NODES, CONTAINERS]) : rand() < 0.1 ? pick(names) : serviceGroupName(`svc${Math.floor(rand() * services)}`);
    rules.push({
      id: i + 1,
      position: i + 1,
      from,
      to,
      ports: pick(['any', 'tcp/80', 'tcp/443,tcp/8443', 'udp/53', 'tcp/8000-8080']),
      apps: rand() < 0.2 ? [pick(apps)] : ['any'],
      action: rand() < 0.85 ? 'allow' : 'deny',
      enabled: rand() < 0.95,
      comment: '',
      hits: 0,
      lastHit: null,
      createdAt: now,
      updatedAt: now,
    });
  }
  const hosts = workloads.map((w) => w.host);

  const t0 = performance.now();
  const snap = buildSnapshot(1, groups, rules, workloads, hosts, new Map());
  const t1 = performance.now();
  const compiled = compileSnapshot(snap, snap.workloads.keys());
  const t2 = performance.now();
  let specs = 0;
  const tokens = new WeakMap<readonly string[], string>();
  for (const p of compiled.values()) {
    specs += p.rules.length;
    fingerprint(p, tokens);
  }
  const t3 = performance.now();
  return {
    workloads: opts.workloads,
    rules: opts.rules,
    groups: groups.length,
    specs,
    snapshotMs: t1 - t0,
    compileMs: t2 - t1,
    fingerprintMs: t3 - t2,
    totalMs: t3 - t0,
  };
}
