/**
 * Application ids. The numeric id is what the session table stores (Uint16); the name is what
 * reports, policies and the CLI show. Order is append-only: ids are persisted in reports.
 */
export const APP_NAMES = [
  'unknown',
  'HTTP',
  'HTTP2',
  'gRPC',
  'TLS',
  'DNS',
  'SSH',
  'MySQL',
  'PostgreSQL',
  'Redis',
  'MongoDB',
  'Kafka',
  'Cassandra',
  'ZooKeeper',
  'Memcached',
  'AMQP',
  'MQTT',
  'NATS',
  'Elasticsearch',
  'etcd',
  'TDS',
  'TNS',
  'DHCP',
  'NTP',
  'Syslog',
  'TFTP',
  'SMTP',
  'FTP',
  'WebSocket',
] as const;

export type AppName = (typeof APP_NAMES)[number];

export const App = Object.fromEntries(APP_NAMES.map((n, i) => [n, i])) as { readonly [K in AppName]: number };

export const APP_UNKNOWN = 0;

const byLowerName = new Map<string, number>(APP_NAMES.map((n, i) => [n.toLowerCase(), i]));

/** Id of an application name (case-insensitive), or -1 when mseg does not know it. */
export function appId(name: string): number {
  return byLowerName.get(name.toLowerCase()) ?? -1;
}

export function appName(id: number): AppName {
  return APP_NAMES[id] ?? 'unknown';
}
