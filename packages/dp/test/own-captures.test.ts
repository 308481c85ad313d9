/**
 * The project's own captures of real Debian servers and clients (test/captures, made by
 * make-captures.sh in network namespaces), on standard and non-standard ports, over IPv4 and
 * IPv6: every flow must get its application, with the client on the right side, and the DPI
 * metadata the capture script recorded (SNI, ALPN, TLS version, HTTP host/method/status, DNS
 * names and answers, server versions, database names).
 */
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readExpected, replayJson, type JsonFlow } from './helpers/replay-cli.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'captures');
const rows = readExpected(join(DIR, 'expected.tsv'));

interface MetaRow {
  pcap: string;
  client: string;
  server: string;
  key: string;
  value: string;
}
const metaRows: MetaRow[] = readFileSync(join(DIR, 'expected-meta.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [pcap, client, server, key, value] = l.split('\t');
    return { pcap, client, server, key, value };
  });

const cache = new Map<string, JsonFlow[]>();
function flow(pcap: string, client: string, server: string): JsonFlow | undefined {
  let flows = cache.get(pcap);
  if (!flows) {
    flows = replayJson(join(DIR, pcap)).flows;
    cache.set(pcap, flows);
  }
  return flows.find((f) => f.client === client && f.server === server);
}

const TLS_VERSIONS: Record<string, number> = { '1.0': 0x0301, '1.1': 0x0302, '1.2': 0x0303, '1.3': 0x0304 };

/** How each recorded fact shows in `replay --json`; facts mseg does not extract are not listed. */
const CHECKS: Record<string, (f: JsonFlow, v: string) => void> = {
  'tls.sni': (f, v) => expect(f.sni).toBe(v),
  'tls.version': (f, v) => expect(f.tlsVersion).toBe(TLS_VERSIONS[v]),
  // `alpn` is the server's choice when the ServerHello shows it (TLS 1.2), else the client's offer.
  'tls.alpn': (f, v) => expect(f.alpn).toEqual([v]),
  'tls.alpn_offered': (f, v) => expect((f.alpn as string[]).join(',')).toBe(v),
  'http.host': (f, v) => expect(String(f.host).replace(/:\d+$/, '')).toBe(v.replace(/:\d+$/, '')),
  'http.method': (f, v) => expect(f.method).toBe(v),
  'http.status': (f, v) => expect(f.status).toBe(Number(v)),
  'dns.qname': (f, v) => expect(f.dnsNames).toContain(v),
  'dns.a': (f, v) => expect((f.dnsAnswers as { addr: string }[]).map((a) => a.addr)).toContain(v),
  'dns.aaaa': (f, v) => expect((f.dnsAnswers as { addr: string }[]).map((a) => a.addr)).toContain(v),
  'mysql.version': (f, v) => expect(f.banner).toBe(v),
  'pgsql.database': (f, v) => expect(String(f.detail)).toContain(`database=${v}`),
  'pgsql.user': (f, v) => expect(String(f.detail)).toContain(`user=${v}`),
};

describe('own captures of real servers and clients', () => {
  it('cover the required protocols on standard and non-standard ports over IPv4 and IPv6', () => {
    const seen = new Set(rows.map((r) => `${r.app} ${r.pcap.includes('-v6-') ? 'v6' : 'v4'}`));
    for (const app of ['HTTP', 'TLS', 'DNS', 'Redis', 'PostgreSQL', 'MySQL', 'SSH']) {
      expect(seen).toContain(`${app} v4`);
      expect(seen).toContain(`${app} v6`);
    }
    const ports = (app: string): Set<string> => new Set(rows.filter((r) => r.app === app).map((r) => r.server.replace(/^.*:/, '')));
    expect(ports('Redis')).toContain('7777');
    expect(ports('HTTP')).toContain('5432');
    expect(ports('TLS')).toContain('80');
  });

  for (const r of rows) {
    it(`${r.pcap} ${r.client} -> ${r.server} is ${r.app}`, () => {
      const f = flow(r.pcap, r.client, r.server);
      expect(f, 'flow with this client and server').toBeDefined();
      expect(f!.app).toBe(r.app);
    });
  }

  const negotiated = new Set(metaRows.filter((r) => r.key === 'tls.alpn').map((r) => `${r.pcap} ${r.client}`));
  const checked = metaRows.filter((r) => CHECKS[r.key] && !(r.key === 'tls.alpn_offered' && negotiated.has(`${r.pcap} ${r.client}`)));
  for (const m of checked) {
    it(`${m.pcap} ${m.client}: ${m.key} = ${m.value}`, () => {
      const f = flow(m.pcap, m.client, m.server);
      expect(f).toBeDefined();
      CHECKS[m.key](f!, m.value);
    });
  }
});
