import { afterEach, describe, expect, it } from 'vitest';
import { enforceWorkloads, followDns } from './agent.js';
import { LearnedNames } from './dp/learned-names.js';
import { Enforcer } from './enforce/enforcer.js';
import { ServiceModes } from './enforce/provisional.js';
import { ReportQueue } from './link/report-queue.js';
import { FakeKernel } from './testing/fake-kernel.js';
import type { Workload } from './runtime/types.js';

const wl = (id: string, service: string, ip: string): Workload => ({
  id, name: id, image: 'img', labels: {}, service, host: 'h', pid: 1, netns: `/proc/${id}/ns/net`,
  interfaces: [{ name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', ips: [ip] }], state: 'running', reason: '',
});

describe('workloads for the enforcer', () => {
  it('a workload without its own rule set is Monitor, unless its service is known to be in Protect', () => {
    const rules = [{ id: 1, from: ['10.0.9.9'], to: ['10.0.0.1'], ports: 'tcp/80', apps: ['any'], action: 'allow' as const }];
    const policies = new Map([['old', { workloadId: 'old', mode: 'protect' as const, rules }]]);
    const services = new ServiceModes();
    const all = [wl('old', 'web', '10.0.0.1'), wl('new', 'web', '10.0.0.5'), wl('job', 'batch', '10.0.0.7')];
    services.learn(all.map((w) => ({ id: w.id, service: w.service, ips: w.interfaces[0].ips })), policies);
    expect(enforceWorkloads(all, policies, services).map((w) => [w.workloadId, w.mode, w.rules.map((r) => r.to.join(',')), w.provisional ?? false])).toEqual([
      ['old', 'protect', ['10.0.0.1'], false],
      ['new', 'protect', ['10.0.0.1,10.0.0.5'], true],
      ['job', 'monitor', [], false],
    ]);
    // Its own rule set, once the controller sent it, replaces the provisional one.
    const own = new Map([...policies, ['new', { workloadId: 'new', mode: 'protect' as const, rules: [] }]]);
    const mine = enforceWorkloads(all, own, services).find((w) => w.workloadId === 'new');
    expect([mine?.mode, mine?.rules, mine?.provisional ?? false]).toEqual(['protect', [], false]);
  });
});

describe('DNS answers from the data plane', () => {
  const enforcers: Enforcer[] = [];
  afterEach(async () => {
    for (const e of enforcers.splice(0)) await e.stop();
  });

  it('resolve the domain peers of Protect tables and go into the next report', async () => {
    const ns = '/proc/10/ns/net';
    const k = new FakeKernel();
    k.addNetns(ns);
    const e = new Enforcer({ runner: k, rtnl: k, onDeny: () => {}, denyLogCommand: () => ['true'] });
    enforcers.push(e);
    const rules = [{ id: 3, from: ['10.0.0.2'], to: ['app.test'], ports: 'tcp/80', apps: ['any'], action: 'allow' as const }];
    e.setWorkloads([{ workloadId: 'cli', netns: ns, ips: ['10.0.0.2'], mode: 'protect', rules }]);
    await e.settle();
    const table = () => k.ns.get(ns)?.nft.get('inet mseg') ?? '';
    // Not resolved yet: the rule opens nothing.
    expect(table()).not.toContain('10.200.0.2');

    const names = new LearnedNames();
    const reports = new ReportQueue();
    const answers = [{ name: 'app.test', addr: '10.200.0.2', ttl: 0 }, { name: 'other.test', addr: '10.200.0.9', ttl: 30 }];
    followDns(names, answers, Date.now(), e, reports);
    await e.settle();
    expect(table()).toContain('10.200.0.2');
    // Only names the workload's rules use go into its table.
    expect(table()).not.toContain('10.200.0.9');
    expect(reports.take('dns', 100)).toEqual(answers);
  });
});
