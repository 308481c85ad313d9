/**
 * Threat detections the data plane reports. Ids are stable (persisted by the controller and shown
 * in the UI); never reuse a retired id.
 */
export const Severity = { info: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;
export type SeverityName = keyof typeof Severity;

export interface ThreatDef {
  id: number;
  key: string;
  name: string;
  severity: SeverityName;
  description: string;
}

export const Threat = {
  TCP_SYN_FLOOD: 1001,
  ICMP_FLOOD: 1002,
  PING_OF_DEATH: 1003,
  IP_TEARDROP: 1004,
  TCP_SYN_DATA: 1005,
  TCP_SPLIT_HANDSHAKE: 1006,
  DNS_ZONE_TRANSFER: 2001,
  DNS_TUNNELING: 2002,
  DNS_LOOP_POINTER: 2003,
  TLS_HEARTBLEED: 3001,
  TLS_OLD_VERSION: 3002,
  HTTP_NEGATIVE_LENGTH: 4001,
  HTTP_SMUGGLING: 4002,
  SQL_INJECTION: 4003,
  SSH_V1: 5001,
} as const;

export const THREATS: readonly ThreatDef[] = [
  { id: Threat.TCP_SYN_FLOOD, key: 'tcp_syn_flood', name: 'TCP SYN flood', severity: 'high',
    description: 'Many TCP SYNs towards one server that are never completed.' },
  { id: Threat.ICMP_FLOOD, key: 'icmp_flood', name: 'ICMP flood', severity: 'medium',
    description: 'ICMP echo requests to one destination above the rate limit.' },
  { id: Threat.PING_OF_DEATH, key: 'ping_of_death', name: 'Ping of death', severity: 'high',
    description: 'Fragmented ICMP packet whose reassembled size exceeds 65,535 bytes.' },
  { id: Threat.IP_TEARDROP, key: 'ip_teardrop', name: 'IP teardrop', severity: 'high',
    description: 'Overlapping IP fragments of one datagram.' },
  { id: Threat.TCP_SYN_DATA, key: 'tcp_syn_data', name: 'TCP SYN with data', severity: 'low',
    description: 'A TCP SYN without the Fast Open option that carries payload.' },
  { id: Threat.TCP_SPLIT_HANDSHAKE, key: 'tcp_split_handshake', name: 'TCP split handshake', severity: 'medium',
    description: 'The server answered a SYN with a SYN of its own instead of SYN-ACK.' },
  { id: Threat.DNS_ZONE_TRANSFER, key: 'dns_zone_transfer', name: 'DNS zone transfer', severity: 'medium',
    description: 'An AXFR or IXFR query: someone is copying a whole zone.' },
  { id: Threat.DNS_TUNNELING, key: 'dns_tunneling', name: 'DNS tunnelling', severity: 'high',
    description: 'DNS query names shaped like encoded data (very long labels or names, high entropy).' },
  { id: Threat.DNS_LOOP_POINTER, key: 'dns_loop_pointer', name: 'DNS loop pointer', severity: 'high',
    description: 'A DNS name compression pointer that points at itself or forms a loop.' },
  { id: Threat.TLS_HEARTBLEED, key: 'tls_heartbleed', name: 'SSL heartbleed', severity: 'critical',
    description: 'A TLS heartbeat request whose declared payload is longer than the record (CVE-2014-0160).' },
  { id: Threat.TLS_OLD_VERSION, key: 'tls_old_version', name: 'SSLv2/v3 or TLS 1.0/1.1', severity: 'medium',
    description: 'A TLS session negotiated (or a client offered at most) SSLv2, SSLv3, TLS 1.0 or TLS 1.1.' },
  { id: Threat.HTTP_NEGATIVE_LENGTH, key: 'http_negative_content_length', name: 'HTTP negative content-length', severity: 'high',
    description: 'An HTTP message with a negative Content-Length.' },
  { id: Threat.HTTP_SMUGGLING, key: 'http_request_smuggling', name: 'HTTP request smuggling', severity: 'high',
    description: 'An HTTP request with conflicting Content-Length and Transfer-Encoding or duplicate lengths.' },
  { id: Threat.SQL_INJECTION, key: 'sql_injection', name: 'SQL injection', severity: 'critical',
    description: 'SQL injection patterns in an HTTP request line or query.' },
  { id: Threat.SSH_V1, key: 'ssh_v1', name: 'SSH version 1', severity: 'high',
    description: 'An SSH endpoint announced protocol version 1.' },
];

const byId = new Map(THREATS.map((t) => [t.id, t]));

export function threatDef(id: number): ThreatDef | undefined {
  return byId.get(id);
}
