import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = resolve(pkg, '../../node_modules/.bin');
// buf finds the local protoc-gen-es on PATH, as `npm run generate` sets it up.
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const out = mkdtempSync(join(tmpdir(), 'mseg-proto-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('proto', () => {
  it('committed gen/ is exactly what buf generate produces', () => {
    execFileSync(join(bin, 'buf'), ['generate', '--output', out], { cwd: pkg, env });
    const fresh = join(out, 'src/gen');
    const committed = join(pkg, 'src/gen');
    expect(files(committed)).toEqual(files(fresh));
    expect(files(fresh).length).toBeGreaterThan(0);
    for (const f of files(fresh)) {
      expect(readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f))), f).toBe(true);
    }
  });

  it('passes buf lint', () => {
    const r = execFileSync(join(bin, 'buf'), ['lint'], { cwd: pkg, env, encoding: 'utf8' });
    expect(r).toBe('');
  });
});
