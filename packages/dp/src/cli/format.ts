/** How `replay` prints flows: one human line, or one JSON object. */
import type { FlowRecord } from '../engine/flow-record.js';
import type { ThreatRecord } from '../threat/threat-log.js';

export function flowJson(f: FlowRecord): string {
  const m = f.meta;
  const o: Record<string, unknown> = {
    l4: f.l4,
    client: f.client,
    server: f.server,
    app: f.app,
    packets: { toServer: f.packetsToServer, toClient: f.packetsToClient },
    bytes: { toServer: f.bytesToServer, toClient: f.bytesToClient },
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    state: f.state,
  };
  if (m) {
    // DPI findings never replace the flow's own fields (endpoints, counters).
    for (const [k, v] of Object.entries(m)) if (k !== 'app' && !(k in o)) o[k] = v;
  }
  if (f.verdict !== undefined) {
    o.verdict = f.verdict;
    o.ruleId = f.ruleId;
  }
  if (f.threatSeverity > 0) o.threatSeverity = f.threatSeverity;
  return JSON.stringify(o);
}

export function flowLine(f: FlowRecord): string {
  const parts = [
    f.l4.padEnd(4),
    `${f.client} -> ${f.server}`,
    f.app,
    `pkts ${f.packetsToServer}/${f.packetsToClient}`,
    `bytes ${f.bytesToServer}/${f.bytesToClient}`,
  ];
  const m = f.meta;
  if (m) {
    if (m.sni) parts.push(`sni=${m.sni}`);
    if (m.alpn) parts.push(`alpn=${m.alpn.join(',')}`);
    if (m.tlsVersion) parts.push(`tls=0x${m.tlsVersion.toString(16)}`);
    if (m.host) parts.push(`host=${m.host}`);
    if (m.method) parts.push(`${m.method} ${m.path ?? ''}`.trim());
    if (m.status) parts.push(`status=${m.status}`);
    if (m.dnsNames?.length) parts.push(`dns=${m.dnsNames.join(',')}`);
    if (m.banner) parts.push(`banner=${JSON.stringify(m.banner)}`);
    if (m.detail) parts.push(m.detail);
  }
  if (f.verdict !== undefined) parts.push(`verdict=${f.verdict} rule=${f.ruleId}`);
  return parts.join('  ');
}

export function threatLine(t: ThreatRecord): string {
  return `THREAT ${t.id} ${t.name} [${t.severity}] ${t.client} -> ${t.server} ${t.detail}${t.count > 1 ? ` (x${t.count})` : ''}`;
}
