import { describe, expect, it } from 'vitest';
import { bypassMapPath, exName, inName, isOurs, neuvMac, pinDir } from './names.js';

describe('plumbing names', () => {
  it('fit in 15 bytes and carry our prefix', () => {
    const id = 'f3a9c0d1e2b34567890abcdef';
    expect(inName(id, 12)).toBe('nv-in-f3a9c0d12');
    expect(inName(id, 12).length).toBeLessThanOrEqual(15);
    expect(exName('eth0')).toBe('nv-ex-eth0');
    expect(exName('averyveryverylongname').length).toBe(15);
    expect(isOurs(inName(id, 3))).toBe(true);
    expect(isOurs('eth0')).toBe(false);
  });

  it('build NeuV MACs from the host-side ifindex', () => {
    expect(neuvMac(0x1234)).toBe('4e:65:75:56:12:34');
    expect(neuvMac(7)).toBe('4e:65:75:56:00:07');
    expect(() => neuvMac(70000)).toThrow(RangeError);
  });

  it('pin the bypass map in a directory named after the capture namespace', () => {
    expect(pinDir('mseg')).toBe('/sys/fs/bpf/mseg');
    expect(bypassMapPath('mseg')).toBe('/sys/fs/bpf/mseg/bypass');
  });
});
