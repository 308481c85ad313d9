import { describe, expect, it } from 'vitest';
import { Reconciler, TerminalError, type Operations } from './reconciler.js';

interface Obj {
  id: string;
  v: number;
}

/** Ops that record calls as "update(a=1)", "delete(a)", "prune(n=2)" and fail on demand. */
function recordingOps(): Operations<Obj> & { calls: string[]; failNext: Map<string, Error> } {
  const calls: string[] = [];
  const failNext = new Map<string, Error>();
  const maybeFail = (id: string) => {
    const err = failNext.get(id);
    if (err) {
      failNext.delete(id);
      throw err;
    }
  };
  return {
    calls,
    failNext,
    async update(o) {
      calls.push(`update(${o.id}=${o.v})`);
      maybeFail(o.id);
    },
    async delete(o) {
      calls.push(`delete(${o.id})`);
      maybeFail(o.id);
    },
    async prune(all) {
      calls.push(`prune(n=${all.length})`);
    },
  };
}

function make(ops: Operations<Obj>) {
  let now = 1000;
  const r = new Reconciler<Obj>('test', ops, { key: (o) => o.id, equal: (a, b) => a.v === b.v, now: () => now });
  return { r, advance: (ms: number) => (now += ms) };
}

describe('reconciler', () => {
  it('updates new objects, prunes once at the first pass, skips unchanged, deletes removed', async () => {
    const ops = recordingOps();
    const { r } = make(ops);
    r.setDesired([{ id: 'a', v: 1 }, { id: 'b', v: 1 }]);
    await r.settle();
    expect(ops.calls).toEqual(['update(a=1)', 'update(b=1)', 'prune(n=2)']);
    ops.calls.length = 0;
    r.setDesired([{ id: 'a', v: 1 }, { id: 'b', v: 2 }]);
    await r.settle();
    expect(ops.calls).toEqual(['update(b=2)']);
    ops.calls.length = 0;
    r.setDesired([{ id: 'b', v: 2 }]);
    await r.settle();
    expect(ops.calls).toEqual(['delete(a)']);
    expect(r.statuses().map((s) => `${s.key}:${s.kind}`)).toEqual(['b:done']);
  });

  it('retries a failure with doubling backoff and reports it until it succeeds', async () => {
    const ops = recordingOps();
    const { r, advance } = make(ops);
    ops.failNext.set('a', new Error('busy'));
    r.setDesired([{ id: 'a', v: 1 }]);
    await r.pass();
    expect(r.statuses()[0]).toMatchObject({ kind: 'error', message: 'busy', failures: 1, terminal: false });
    ops.failNext.set('a', new Error('busy again'));
    await r.pass();
    expect(ops.calls.filter((c) => c.startsWith('update'))).toHaveLength(1);
    advance(100);
    await r.pass();
    expect(r.statuses()[0]).toMatchObject({ kind: 'error', message: 'busy again', failures: 2 });
    advance(150);
    await r.pass();
    expect(ops.calls.filter((c) => c.startsWith('update'))).toHaveLength(2);
    advance(50);
    await r.pass();
    expect(ops.calls.filter((c) => c.startsWith('update'))).toHaveLength(3);
    expect(r.statuses()[0]).toMatchObject({ kind: 'done', failures: 0, message: '' });
  });

  it('a terminal error is not retried until the object changes', async () => {
    const ops = recordingOps();
    const { r, advance } = make(ops);
    ops.failNext.set('a', new TerminalError('no act_mirred'));
    r.setDesired([{ id: 'a', v: 1 }]);
    await r.settle();
    advance(120_000);
    r.touch();
    await r.settle();
    expect(ops.calls.filter((c) => c.startsWith('update'))).toEqual(['update(a=1)']);
    expect(r.statuses()[0]).toMatchObject({ kind: 'error', terminal: true, message: 'no act_mirred' });
    r.setDesired([{ id: 'a', v: 2 }]);
    await r.settle();
    expect(r.statuses()[0]).toMatchObject({ kind: 'done' });
  });

  it('a failed delete keeps the object until the delete succeeds', async () => {
    const ops = recordingOps();
    const { r, advance } = make(ops);
    r.setDesired([{ id: 'a', v: 1 }]);
    await r.settle();
    ops.failNext.set('a', new Error('EBUSY'));
    r.setDesired([]);
    await r.pass();
    expect(r.statuses()[0]).toMatchObject({ key: 'a', kind: 'error', deleting: true });
    expect(r.desired()).toEqual([]);
    advance(100);
    await r.pass();
    expect(r.statuses()).toEqual([]);
    expect(ops.calls.filter((c) => c.startsWith('delete'))).toEqual(['delete(a)', 'delete(a)']);
  });

  it('runs new objects concurrently up to the bound, objects applied before one at a time and after new ones', async () => {
    let open = 0;
    let peak = 0;
    const order: string[] = [];
    const release: (() => void)[] = [];
    const ops: Operations<Obj> = {
      async update(o) {
        order.push(`${o.id}=${o.v}`);
        open++;
        peak = Math.max(peak, open);
        await new Promise<void>((r) => release.push(r));
        open--;
      },
      async delete() {},
      async prune() {},
    };
    const r = new Reconciler<Obj>('test', ops, { key: (o) => o.id, equal: (a, b) => a.v === b.v, concurrency: 2 });
    const old = ['a', 'b', 'c'].map((id) => ({ id, v: 1 }));
    r.setDesired(old);
    const drain = async (p: Promise<void>) => {
      while (order.length < 100 && (release.length || open)) {
        for (const f of release.splice(0)) f();
        await new Promise((res) => setTimeout(res, 0));
      }
      await p;
    };
    await drain(r.settle());
    expect(peak).toBe(2);
    order.length = 0;
    peak = 0;
    // Refresh of a, b, c: one at a time, though a worker is free. While a runs, n is added and a
    // changes: n goes next, then a's new version and the rest in insertion order.
    r.touch();
    const pass = r.pass();
    await new Promise((res) => setTimeout(res, 0));
    expect(open).toBe(1);
    r.setDesired([...old, { id: 'n', v: 1 }]);
    r.setDesired([{ id: 'a', v: 2 }, { id: 'b', v: 1 }, { id: 'c', v: 1 }, { id: 'n', v: 1 }]);
    const grown = r.pass();
    await drain(pass);
    await drain(grown);
    await drain(r.settle());
    expect(order).toEqual(['a=1', 'n=1', 'a=2', 'b=1', 'c=1']);
    expect(peak).toBe(1);
  });

  it('an object desired again while its delete runs is kept and applied', async () => {
    const ops = recordingOps();
    const { r } = make(ops);
    r.setDesired([{ id: 'a', v: 1 }]);
    await r.settle();
    r.setDesired([]);
    const deleting = r.pass();
    r.setDesired([{ id: 'a', v: 2 }]);
    await deleting;
    await r.settle();
    expect(ops.calls.slice(-2)).toEqual(['delete(a)', 'update(a=2)']);
    expect(r.statuses()).toMatchObject([{ key: 'a', kind: 'done', deleting: false }]);
  });

  it('an object desired while a pass runs starts at once beside it, not after the pass', async () => {
    const calls: string[] = [];
    const release: (() => void)[] = [];
    const ops: Operations<Obj> = {
      async update(o) {
        calls.push(`update(${o.id})`);
        await new Promise<void>((r) => release.push(r));
      },
      async delete() {},
      async prune() {},
    };
    const r = new Reconciler<Obj>('test', ops, { key: (o) => o.id, equal: (a, b) => a.v === b.v, concurrency: 2 });
    r.start();
    r.setDesired([{ id: 'a', v: 1 }]);
    await new Promise((res) => setTimeout(res, 5));
    expect(calls).toEqual(['update(a)']);
    r.setDesired([{ id: 'a', v: 1 }, { id: 'b', v: 1 }]);
    await new Promise((res) => setTimeout(res, 5));
    expect(calls).toEqual(['update(a)', 'update(b)']);
    for (const f of release.splice(0)) f();
    await r.stop();
  });

  it('an urgent object applied before goes first among the rest', async () => {
    const ops = recordingOps();
    const r = new Reconciler<Obj>('test', ops, { key: (o) => o.id, equal: (a, b) => a.v === b.v, urgent: (o) => o.v === 9 });
    r.setDesired(['a', 'b', 'c'].map((id) => ({ id, v: 1 })));
    await r.settle();
    ops.calls.length = 0;
    r.setDesired([{ id: 'a', v: 2 }, { id: 'b', v: 2 }, { id: 'c', v: 9 }]);
    await r.settle();
    expect(ops.calls).toEqual(['update(c=9)', 'update(a=2)', 'update(b=2)']);
  });
});
