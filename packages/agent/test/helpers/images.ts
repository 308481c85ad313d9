/**
 * Test images built locally (no registry is reachable): `web` is a Debian minbase with nginx,
 * redis, curl, iproute2, procps, tcpdump and iperf3; `tiny` is a busybox-static root file system. Each is tagged
 * with a hash of its recipe, so a changed recipe builds a new image and an unchanged one is
 * reused from docker's image store, or re-imported from the root-fs tarball kept under
 * /var/cache/mseg-test when the store was wiped. Measured on the 2-core CI machine: a cold `web`
 * build (debootstrap from deb.debian.org, tar, import; 145 MB) takes 36 s, `tiny` 0.24 s; a warm
 * run only inspects the images (~20 ms).
 *
 * Test workers run in parallel processes: a lock file per image lets one build while the others
 * wait for it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CACHE_DIR = '/var/cache/mseg-test';
const LOCK_STALE_MS = 15 * 60_000;

interface Recipe {
  repository: string;
  /** Everything that decides the image's content; hashed into its tag. */
  spec: Record<string, unknown>;
  /** `docker import --change` instructions. */
  changes: string[];
  /** Fills `root` with the image's file system. */
  build(root: string): Promise<void>;
}

// tcpdump: a container watching its own interface (no mirrored frame may reach it); iperf3: the
// agent benchmark's throughput runs.
const WEB_PACKAGES = ['nginx', 'redis-server', 'curl', 'iproute2', 'procps', 'tcpdump', 'iperf3'];
const MIRROR = 'http://deb.debian.org/debian';

const recipes = {
  web: {
    repository: 'mseg-test/web',
    spec: { suite: 'bookworm', variant: 'minbase', packages: WEB_PACKAGES, mirror: MIRROR, cleanup: ['var/cache/apt/archives', 'var/lib/apt/lists'] },
    changes: ['CMD ["nginx", "-g", "daemon off;"]'],
    async build(root: string) {
      await run('debootstrap', ['--variant=minbase', `--include=${WEB_PACKAGES.join(',')}`, 'bookworm', root, MIRROR], {
        timeout: 15 * 60_000,
        maxBuffer: 64 << 20,
      });
      // Package caches are half the tree and of no use in a container.
      for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) rmSync(join(root, dir), { recursive: true, force: true });
    },
  },
  tiny: {
    repository: 'mseg-test/tiny',
    spec: { busybox: '/bin/busybox (busybox-static)', dirs: ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root'] },
    changes: ['CMD ["sh"]'],
    async build(root: string) {
      for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(root, d), { recursive: true });
      copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
      chmodSync(join(root, 'bin/busybox'), 0o755);
      const { stdout } = await run('/bin/busybox', ['--list']);
      for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) symlinkSync('busybox', join(root, 'bin', applet));
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    },
  },
} satisfies Record<string, Recipe>;

export type ImageName = keyof typeof recipes;

function tagOf(recipe: Recipe): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ spec: recipe.spec, changes: recipe.changes, build: recipe.build.toString() }))
    .digest('hex')
    .slice(0, 12);
  return `${recipe.repository}:${hash}`;
}

async function present(ref: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
    return true;
  } catch {
    return false;
  }
}

async function importTarball(tarball: string, ref: string, changes: string[]): Promise<void> {
  const args = ['import'];
  for (const c of changes) args.push('--change', c);
  await run('docker', [...args, tarball, ref], { timeout: 10 * 60_000 });
}

/** Exclusive lock by O_EXCL file; a lock older than LOCK_STALE_MS is from a killed run. */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS) unlinkSync(path);
      } catch {
        // The holder released it between the two calls: try again.
      }
      if (Date.now() > deadline) throw new Error(`image lock ${path} held for too long`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** The image's reference, built or imported first when docker does not have it. */
export async function ensureImage(name: ImageName): Promise<string> {
  const recipe: Recipe = recipes[name];
  const ref = tagOf(recipe);
  if (await present(ref)) return ref;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = join(CACHE_DIR, `${ref.replace(/[/:]/g, '_')}.tar`);
  return withLock(`${tarball}.lock`, async () => {
    if (await present(ref)) return ref;
    if (!existsSync(tarball)) {
      const root = mkdtempSync(join(CACHE_DIR, `${name}-root-`));
      try {
        await recipe.build(root);
        await run('tar', ['-C', root, '-cf', `${tarball}.part`, '.'], { timeout: 10 * 60_000 });
        await run('mv', [`${tarball}.part`, tarball]);
      } finally {
        rmSync(root, { recursive: true, force: true });
        rmSync(`${tarball}.part`, { force: true });
      }
    }
    await importTarball(tarball, ref, recipe.changes);
    return ref;
  });
}
