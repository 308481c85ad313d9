import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource } from '../testing/fakeEventSource';
import { LiveEvents, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './events';

describe('LiveEvents', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeEventSource.instances = [];
  });
  afterEach(() => vi.useRealTimers());

  it('delivers parsed events to the listeners of their name only, until unsubscribed', () => {
    const live = new LiveEvents('tok/+', FakeEventSource.factory);
    live.start();
    const conns = vi.fn();
    const agents = vi.fn();
    const off = live.on('connections', conns);
    live.on('agents', agents);
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/v1/events?token=tok%2F%2B');
    source.emit('connections', { count: 2 });
    expect(conns).toHaveBeenCalledWith({ count: 2 }, 'connections');
    expect(agents).not.toHaveBeenCalled();
    off();
    source.emit('connections', { count: 3 });
    expect(conns).toHaveBeenCalledTimes(1);
    live.close();
    expect(source.closed).toBe(true);
  });

  it('reconnects a refused stream after a doubling delay capped at 30 s, and resets it once open', () => {
    const live = new LiveEvents('tok', FakeEventSource.factory);
    const status = vi.fn();
    live.onStatus(status);
    live.start();
    FakeEventSource.latest().open();
    expect(status).toHaveBeenLastCalledWith(true);

    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = FakeEventSource.instances.length;
      FakeEventSource.latest().fail();
      let waited = 0;
      while (FakeEventSource.instances.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(status).toHaveBeenLastCalledWith(false);
    expect(delays).toEqual([1, 2, 4, 8, 16, 30, 30].map((s) => s * 1000));
    expect(RECONNECT_MIN_MS).toBe(1000);
    expect(RECONNECT_MAX_MS).toBe(30_000);

    FakeEventSource.latest().open();
    const before = FakeEventSource.instances.length;
    FakeEventSource.latest().fail();
    vi.advanceTimersByTime(RECONNECT_MIN_MS);
    expect(FakeEventSource.instances.length).toBe(before + 1);
    live.close();
  });

  it('leaves a stream the browser is retrying by itself alone, and never reconnects after close', () => {
    const live = new LiveEvents('tok', FakeEventSource.factory);
    live.start();
    const source = FakeEventSource.latest();
    source.readyState = 0;
    source.onerror?.(new Event('error'));
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);

    source.fail();
    live.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
