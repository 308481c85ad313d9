/**
 * The demo's containers on a network of their own, each labelled `mseg.service` (the service
 * the agent reports, so each gets its `svc.<name>` group) and `mseg.demo` (how `demo --down`
 * finds them), and the policy that allows exactly its legitimate paths.
 */
import YAML from 'yaml';

export const NETWORK = 'mseg-demo';
export const DEMO_LABEL = 'mseg.demo';

export interface DemoService {
  name: string;
  cmd: string[];
}

/** In start order: servers before the clients that call them. */
export const SERVICES: DemoService[] = [
  // The client's name server: lookups cross the network as DNS (Docker's own resolver answers on
  // the container's loopback, where nothing is mirrored); dnsmasq asks Docker's for the names.
  { name: 'dns', cmd: ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--server=127.0.0.11', '--user=root', '--log-facility=-'] },
  { name: 'db', cmd: ['/demo/db.sh'] },
  { name: 'cache', cmd: ['redis-server', '--bind', '0.0.0.0', '--protected-mode', 'no', '--save', ''] },
  { name: 'api', cmd: ['/demo/api.py'] },
  { name: 'web', cmd: ['nginx', '-c', '/demo/nginx.conf'] },
  { name: 'client', cmd: ['/demo/client.sh'] },
];

export const containerName = (service: string) => `mseg-demo-${service}`;

/** client → web → api → db and cache, client → dns; client → cache is what the policy leaves out. */
export const LEGITIMATE = [
  { from: 'client', to: 'dns', ports: 'udp/53', apps: ['DNS'] },
  { from: 'client', to: 'web', ports: 'tcp/80', apps: ['HTTP'] },
  { from: 'web', to: 'api', ports: 'tcp/8080', apps: ['HTTP'] },
  { from: 'api', to: 'db', ports: 'tcp/5432', apps: ['PostgreSQL'] },
  { from: 'api', to: 'cache', ports: 'tcp/6379', apps: ['Redis'] },
];

export function demoPolicy(): string {
  return YAML.stringify({
    version: 1,
    groups: [],
    rules: LEGITIMATE.map((r) => ({ from: `svc.${r.from}`, to: `svc.${r.to}`, ports: r.ports, apps: r.apps, action: 'allow', comment: `demo: ${r.from} -> ${r.to}` })),
  });
}

export function runArgs(image: string, s: DemoService): string[] {
  return [
    'run',
    '-d',
    '--name',
    containerName(s.name),
    '--hostname',
    s.name,
    '--network',
    NETWORK,
    '--network-alias',
    s.name,
    '--label',
    `mseg.service=${s.name}`,
    '--label',
    `${DEMO_LABEL}=1`,
    '--restart',
    'unless-stopped',
    image,
    ...s.cmd,
  ];
}
