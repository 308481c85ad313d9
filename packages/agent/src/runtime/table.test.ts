import { describe, expect, it } from 'vitest';
import { WorkloadTable, type WorkloadChange } from './table.js';
import type { Workload } from './types.js';

function workload(id: string, over: Partial<Workload> = {}): Workload {
  return {
    id,
    name: `c-${id}`,
    image: 'mseg-test/web:1',
    labels: { a: '1', b: '2' },
    service: 'mseg-test/web',
    host: 'h',
    pid: 100,
    netns: '/proc/100/ns/net',
    interfaces: [{ name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:02', ips: ['172.17.0.2'] }],
    state: 'running',
    reason: '',
    ...over,
  };
}

describe('WorkloadTable', () => {
  it('notifies added, changed and removed, and nothing for an equal workload', () => {
    const t = new WorkloadTable();
    const seen: string[] = [];
    t.subscribe((c: WorkloadChange) => seen.push(`${c.kind}:${c.workload.id}:${c.workload.state}`));
    expect(t.upsert(workload('a'))?.kind).toBe('added');
    // Same content with labels in another key order: no change.
    expect(t.upsert(workload('a', { labels: { b: '2', a: '1' } }))).toBeNull();
    const changed = t.upsert(workload('a', { state: 'unmonitored', reason: 'paused' }));
    expect(changed?.kind === 'changed' && changed.previous.state).toBe('running');
    expect(t.remove('a')?.kind).toBe('removed');
    expect(t.remove('a')).toBeNull();
    expect(seen).toEqual(['added:a:running', 'changed:a:unmonitored', 'removed:a:unmonitored']);
    expect(t.size).toBe(0);
  });

  it('stops notifying after unsubscribe', () => {
    const t = new WorkloadTable();
    let n = 0;
    const off = t.subscribe(() => n++);
    t.upsert(workload('a'));
    off();
    t.upsert(workload('b'));
    expect(n).toBe(1);
    expect(t.list().map((w) => w.id)).toEqual(['a', 'b']);
  });

  it('resolves synced() when the runtime marks it', async () => {
    const t = new WorkloadTable();
    let done = false;
    void t.synced().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    t.setSynced();
    await t.synced();
    expect(done && t.hasSynced).toBe(true);
  });
});
