/**
 * The REST listener's key pair: the one given (--tls-cert/--tls-key), else a self-signed one made
 * at first start and kept in the data dir (`tls/key.pem` 0600, `tls/cert.pem`), reused on later
 * starts and made anew only when it has expired. The key pair comes from node:crypto (native,
 * fast); selfsigned only builds and signs the certificate around it.
 */
import { generateKeyPair, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import type { ControllerOptions } from './context.js';

export interface TlsFiles {
  key: string;
  cert: string;
  /** Where they came from: the given files, reused from the data dir, or just made. */
  source: 'given' | 'reused' | 'generated';
  certPath: string;
  /** SHA-256 fingerprint, printed at start so a client can pin a self-signed certificate. */
  fingerprint: string;
}

const VALID_DAYS = 825;

export function tlsPaths(dataDir: string): { dir: string; key: string; cert: string } {
  const dir = join(dataDir, 'tls');
  return { dir, key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
}

async function selfSigned(): Promise<{ key: string; cert: string }> {
  const pair = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const host = hostname();
  const pem = generate([{ name: 'commonName', value: host }, { name: 'organizationName', value: 'mseg controller (self-signed)' }], {
    keyPair: { privateKey: pair.privateKey, publicKey: pair.publicKey },
    algorithm: 'sha256',
    days: VALID_DAYS,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: host },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pair.privateKey, cert: pem.cert };
}

function fingerprintOf(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

export async function loadTls(options: ControllerOptions, now = Date.now()): Promise<TlsFiles> {
  if (options.tlsCert && options.tlsKey) {
    const cert = readFileSync(options.tlsCert, 'utf8');
    return { key: readFileSync(options.tlsKey, 'utf8'), cert, source: 'given', certPath: options.tlsCert, fingerprint: fingerprintOf(cert) };
  }
  const paths = tlsPaths(options.dataDir);
  if (existsSync(paths.key) && existsSync(paths.cert)) {
    const cert = readFileSync(paths.cert, 'utf8');
    if (new Date(new X509Certificate(cert).validTo).getTime() > now) {
      return { key: readFileSync(paths.key, 'utf8'), cert, source: 'reused', certPath: paths.cert, fingerprint: fingerprintOf(cert) };
    }
  }
  const made = await selfSigned();
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  // The key is written with 0600 from the start (mode applies on creation), never world-readable.
  writeFileSync(paths.key, made.key, { mode: 0o600 });
  writeFileSync(paths.cert, made.cert, { mode: 0o644 });
  return { ...made, source: 'generated', certPath: paths.cert, fingerprint: fingerprintOf(made.cert) };
}
