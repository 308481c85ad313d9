import { execFileSync } from 'node:child_process';

/** Tests that run the CLIs need the built packages; build them once per run. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-b', 'packages/dp', 'packages/controller'], { stdio: 'inherit' });
}
