import { describe, expect, it } from 'vitest';
import { LearnedNames, MAX_PAIRS, TTL_CEILING_S, TTL_FLOOR_S } from './learned-names.js';

const T0 = 1_000_000;

describe('the FQDN map learned from DNS answers', () => {
  it('maps names to addresses; a refreshed pair changes nothing the enforcer resolves', () => {
    const n = new LearnedNames();
    expect(n.learn([{ name: 'App.Test', addr: '10.0.0.1', ttl: 300 }, { name: 'app.test', addr: 'fd00::1', ttl: 300 }], T0)).toBe(true);
    expect(n.map()).toEqual(new Map([['app.test', ['10.0.0.1', 'fd00::1']]]));
    expect(n.learn([{ name: 'app.test', addr: '10.0.0.1', ttl: 300 }], T0 + 1000)).toBe(false);
  });

  it('holds a pair for its TTL, within the floor and the ceiling', () => {
    const n = new LearnedNames();
    n.learn([
      { name: 'zero.test', addr: '10.0.0.1', ttl: 0 },
      { name: 'mid.test', addr: '10.0.0.2', ttl: 600 },
      { name: 'long.test', addr: '10.0.0.3', ttl: 86_400 },
    ], T0);
    expect(n.expire(T0 + TTL_FLOOR_S * 1000 - 1)).toBe(false);
    expect(n.expire(T0 + TTL_FLOOR_S * 1000)).toBe(true);
    expect([...n.map().keys()]).toEqual(['mid.test', 'long.test']);
    expect(n.expire(T0 + 600_000)).toBe(true);
    expect(n.expire(T0 + TTL_CEILING_S * 1000 - 1)).toBe(false);
    expect(n.expire(T0 + TTL_CEILING_S * 1000)).toBe(true);
    expect(n.size).toBe(0);
  });

  it('a refresh extends a pair; past the bound the least recently answered pair goes', () => {
    const n = new LearnedNames();
    const many = Array.from({ length: MAX_PAIRS }, (_, i) => ({ name: `n${i}.test`, addr: '10.0.0.1', ttl: 300 }));
    n.learn(many, T0);
    // n0 answered again: now the most recent, so n1 is the one that makes room.
    n.learn([{ name: 'n0.test', addr: '10.0.0.1', ttl: 300 }], T0 + 200_000);
    expect(n.learn([{ name: 'new.test', addr: '10.0.0.9', ttl: 300 }], T0 + 200_000)).toBe(true);
    const m = n.map();
    expect(n.size).toBe(MAX_PAIRS);
    expect([m.has('n0.test'), m.has('n1.test'), m.has('new.test')]).toEqual([true, false, true]);
    n.expire(T0 + 300_000);
    expect([...n.map().keys()]).toEqual(['n0.test', 'new.test']);
  });
});
