import { describe, expect, it } from 'vitest';
import { selected } from './docker-runtime.js';

describe('selected', () => {
  it.each([
    [{ a: '1' }, undefined, true],
    [null, undefined, true],
    [{ 'mseg.test': 'r1' }, { key: 'mseg.test', value: 'r1' }, true],
    [{ 'mseg.test': 'r2' }, { key: 'mseg.test', value: 'r1' }, false],
    [{ other: 'r1' }, { key: 'mseg.test', value: 'r1' }, false],
    [null, { key: 'mseg.test', value: '' }, false],
    [{ 'mseg.test': '' }, { key: 'mseg.test', value: '' }, true],
  ])('labels %j, selector %j → %s', (labels, selector, want) => {
    expect(selected(labels, selector)).toBe(want);
  });
});
