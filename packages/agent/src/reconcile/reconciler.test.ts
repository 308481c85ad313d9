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
});
