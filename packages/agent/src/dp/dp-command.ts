/** How to start the data plane: the `mseg-dp` bin of the installed @mseg/dp package, run by this Node. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function dpCliPath(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@mseg/dp/package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { bin?: Record<string, string> };
  const bin = pkg.bin?.['mseg-dp'];
  if (!bin) throw new Error(`@mseg/dp at ${dirname(pkgJson)} declares no mseg-dp bin`);
  return join(dirname(pkgJson), bin);
}

/** `bypassMap`: the pinned session bypass map the DP fills (the mirror programs skip what it names). */
export function dpCommand(netns: string, socket: string, bypassMap: string): string[] {
  return [process.execPath, dpCliPath(), 'run', '--netns', netns, '--socket', socket, '--bypass-map', bypassMap];
}
