/**
 * The file a worker thread runs for a module of this package. A worker runs plain JavaScript, so
 * when the caller runs from its TypeScript sources (the test runner) it is the built file of the
 * same module in dist/ (the test set-up builds before it runs).
 */
import { fileURLToPath } from 'node:url';

/** `relative` (a .js name) resolved against `base` (the caller's import.meta.url). */
export function workerFile(relative: string, base: string): string {
  const path = fileURLToPath(new URL(relative, base));
  if (!base.endsWith('.ts')) return path;
  const at = path.lastIndexOf('/src/');
  return `${path.slice(0, at)}/dist/${path.slice(at + 5)}`;
}
