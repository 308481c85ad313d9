/**
 * The demo image, built here without any registry: a Debian 12 minbase root made with
 * debootstrap (nginx, PostgreSQL, Redis, Python, curl, dnsmasq) plus the demo's files, imported with
 * `docker import`. The tag is a hash of the recipe, so an unchanged recipe is built once; the root
 * tarball is kept under /var/cache/mseg so a wiped image store re-imports without downloading.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from '../errors.js';
import type { Progress } from '../output/io.js';
import { FILES } from './files.js';

const run = promisify(execFile);

export const CACHE_DIR = '/var/cache/mseg';
export const REPOSITORY = 'mseg-demo/app';
const MIRROR = 'http://deb.debian.org/debian';
const PACKAGES = ['nginx', 'postgresql', 'redis-server', 'python3', 'curl', 'procps', 'iproute2', 'dnsmasq-base'];

export function imageTag(): string {
  const hash = createHash('sha256').update(JSON.stringify({ PACKAGES, MIRROR, FILES })).digest('hex').slice(0, 12);
  return `${REPOSITORY}:${hash}`;
}

export function docker(socket: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return run('docker', ['-H', `unix://${socket}`, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }).then(
    (r) => r.stdout,
    (e: { stderr?: string; message: string }) => {
      throw new CliError('MSEG_ERR_CLI_DOCKER', `docker ${args.slice(0, 2).join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: e });
    },
  );
}

async function present(socket: string, ref: string): Promise<boolean> {
  try {
    await docker(socket, ['image', 'inspect', '--format', '{{.Id}}', ref]);
    return true;
  } catch {
    return false;
  }
}

export async function ensureDemoImage(socket: string, p: Progress): Promise<string> {
  const ref = imageTag();
  if (await present(socket, ref)) return ref;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = join(CACHE_DIR, `${ref.replace(/[/:]/g, '_')}.tar`);
  if (!existsSync(tarball)) {
    const root = mkdtempSync(join(CACHE_DIR, 'demo-root-'));
    try {
      p.step(`debootstrap Debian 12 with ${PACKAGES.join(', ')} (a few minutes the first time)`);
      try {
        await run('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, 'bookworm', root, MIRROR], { timeout: 20 * 60_000, maxBuffer: 64 << 20 });
      } catch (e) {
        throw new CliError('MSEG_ERR_CLI_DOCKER', `debootstrap failed (is the debootstrap package installed?): ${(e as Error).message.split('\n')[0]}`, { cause: e });
      }
      // Package caches are half the tree and of no use in a container.
      for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) rmSync(join(root, dir), { recursive: true, force: true });
      for (const [path, f] of Object.entries(FILES)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), f.text);
        chmodSync(join(root, path), f.mode);
      }
      p.step('packing the root file system');
      await run('tar', ['-C', root, '-cf', `${tarball}.part`, '.'], { timeout: 10 * 60_000 });
      renameSync(`${tarball}.part`, tarball);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(`${tarball}.part`, { force: true });
    }
  }
  p.step(`docker import ${ref}`);
  await docker(socket, ['import', tarball, ref], 10 * 60_000);
  return ref;
}
