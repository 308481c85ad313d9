/**
 * A throwaway PostgreSQL server for the test run, and fresh databases on it per test file.
 *
 * The cluster lives in a temp dir, listens on 127.0.0.1 only (a free port) with its unix socket
 * in that dir, and trusts local connections: it exists for one `npm test` and holds nothing.
 * PostgreSQL refuses to run as root, so under root (CI) initdb and pg_ctl run as `postgres`.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestPostgres {
  /** Superuser URL of the server's `postgres` database. */
  url: string;
  stop(): void;
}

/** Debian installs each major version under /usr/lib/postgresql/<major>/bin; take the newest. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (run: bash scripts/ensure.sh test)');
  }
  return join(root, majors[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** uid/gid to run the server as: `postgres` when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'mseg-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const run = (cmd: string, args: string[]): void => {
    execFileSync(join(bin, cmd), args, { ...as, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  let started = false;
  const stop = (): void => {
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } catch {
        // Already gone (killed with the machine's process group); the dir is removed regardless.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    // Durability of this server is irrelevant (it dies with the run), so skip fsync; the SIGKILL
    // test kills the controller, not PostgreSQL. Enough connections for parallel test files,
    // each with pools of several clients.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 400',
        '',
      ].join('\n'),
    );
    run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60']);
    started = true;
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `mseg_test_<random>` on the server at `serverUrl`; drop() removes it (forcing off clients). */
export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `mseg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
