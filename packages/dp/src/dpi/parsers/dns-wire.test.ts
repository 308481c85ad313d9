import { describe, expect, it } from 'vitest';
import {
  NAME_BAD_LABEL,
  NAME_BAD_POINTER,
  NAME_LOOP,
  NAME_OK,
  NAME_TOO_LONG,
  NAME_TRUNCATED,
  NameScan,
  nameText,
  sameName,
  textEquals,
  walkName,
} from './dns-wire.js';

const HEADER = '000001000001000000000000';

function msg(hexBody: string): Uint8Array {
  return Uint8Array.from(Buffer.from(HEADER + hexBody, 'hex'));
}

describe('dns wire names', () => {
  const s = new NameScan();

  it('walks labels and pointers, writing lower-case text with escapes', () => {
    // 12: "Www.Ex-1.com", 26: "a" + pointer to 16 ("ex-1.com").
    const b = msg('03577777044578 2d31 03636f6d00 0161c010'.replace(/ /g, ''));
    expect(walkName(b, 0, b.length, 12, s, true)).toBe(NAME_OK);
    expect(nameText(s)).toBe('www.ex-1.com');
    expect([s.end, s.labels, s.maxLabel, s.wireLen, s.oddChars]).toEqual([26, 3, 4, 14, 0]);
    expect(walkName(b, 0, b.length, 26, s, true)).toBe(NAME_OK);
    expect(nameText(s)).toBe('a.ex-1.com');
    expect(s.end).toBe(30);
    expect(textEquals(s, 'a.ex-1.com')).toBe(true);
    expect(textEquals(s, 'a.ex-1.co')).toBe(false);
    expect(sameName(b, 0, b.length, 16, 28)).toBe(true);
    expect(sameName(b, 0, b.length, 12, 26)).toBe(false);
    const odd = msg('03612e5c02ff2000');
    expect(walkName(odd, 0, odd.length, 12, s, true)).toBe(NAME_OK);
    expect(nameText(s)).toBe('a\\046\\092.\\255\\032');
    expect(s.oddChars).toBe(4);
    const root = msg('00');
    expect(walkName(root, 0, root.length, 12, s, true)).toBe(NAME_OK);
    expect(nameText(s)).toBe('.');
  });

  it('rejects loops, header pointers, reserved label types, truncation and overlong names', () => {
    const self = msg('c00c');
    expect(walkName(self, 0, self.length, 12, s, false)).toBe(NAME_LOOP);
    expect(s.loopAt).toBe(12);
    const forward = msg('0161c0110162c00e');
    expect(walkName(forward, 0, forward.length, 12, s, false)).toBe(NAME_LOOP);
    expect(walkName(msg('c002'), 0, 14, 12, s, false)).toBe(NAME_BAD_POINTER);
    expect(walkName(msg('4161'), 0, 14, 12, s, false)).toBe(NAME_BAD_LABEL);
    expect(walkName(msg('8161'), 0, 14, 12, s, false)).toBe(NAME_BAD_LABEL);
    expect(walkName(msg('0361'), 0, 14, 12, s, false)).toBe(NAME_TRUNCATED);
    expect(walkName(msg('c0'), 0, 13, 12, s, false)).toBe(NAME_TRUNCATED);
    const long = msg(('3f' + '61'.repeat(63)).repeat(4) + '00');
    expect(walkName(long, 0, long.length, 12, s, false)).toBe(NAME_TOO_LONG);
    expect(sameName(self, 0, self.length, 12, 12)).toBe(false);
  });
});
