/**
 * An agent as the controller sees one: it registers with the join token over gRPC (h2c), then
 * reports its workloads and connection batches, the calls packages/agent's link makes.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { AgentService, Direction, Verdict, WorkloadState } from '@mseg/proto';

export interface SeedWorkload {
  id: string;
  service: string;
  ip: string;
}

export interface SeedConnection {
  /** Reporting end: the server's workload (its report is the one counted). */
  workloadId: string;
  client: string;
  server: string;
  port: number;
  app: string;
  verdict: 'allow' | 'violate' | 'deny';
  ruleId?: number;
  bytes: number;
  sessions?: number;
}

const VERDICTS = { allow: Verdict.ALLOW, violate: Verdict.VIOLATE, deny: Verdict.DENY } as const;

export class TestAgent {
  private batch = 0;

  private constructor(
    private readonly client: Client<typeof AgentService>,
    private readonly opts: { headers: Record<string, string> },
    private readonly session: Http2SessionManager,
    readonly host: string,
  ) {}

  static async register(grpcUrl: string, joinToken: string, host: string): Promise<TestAgent> {
    // Our own session manager, so close() can end the HTTP/2 connection (it would keep the run alive).
    const session = new Http2SessionManager(grpcUrl);
    const client = createClient(AgentService, createGrpcTransport({ baseUrl: grpcUrl, sessionManager: session }));
    const r = await client.register({ joinToken, host, agentVersion: '0.1.0', previousAgentId: '' });
    const agent = new TestAgent(client, { headers: { authorization: `Bearer ${r.agentId}.${r.credential}` } }, session, host);
    await client.heartbeat({ policyRevision: 0n, workloads: 0, dataPlane: { running: true, packets: 0n } }, agent.opts);
    return agent;
  }

  close(): void {
    this.session.abort();
  }

  async workloads(list: SeedWorkload[]): Promise<void> {
    await this.client.reportWorkloads(
      {
        full: true,
        workloads: list.map((w) => ({
          id: w.id,
          name: w.id,
          image: `registry.example/${w.service}:1`,
          labels: { app: w.service },
          service: w.service,
          host: this.host,
          pid: 100,
          netns: `/proc/100/ns/net`,
          interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: [w.ip] }],
          state: WorkloadState.RUNNING,
          reason: '',
        })),
      },
      this.opts,
    );
  }

  async connections(list: SeedConnection[]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    this.batch++;
    await this.client.reportConnections(
      {
        batchId: `${this.host}-${this.batch}-${Date.now()}`,
        connections: list.map((c) => ({
          workloadId: c.workloadId,
          client: c.client,
          server: c.server,
          serverPort: c.port,
          proto: 6,
          app: c.app,
          direction: Direction.INGRESS,
          ruleId: c.ruleId ?? 0,
          action: VERDICTS[c.verdict],
          bytesToServer: BigInt(Math.floor(c.bytes / 4)),
          bytesToClient: BigInt(c.bytes - Math.floor(c.bytes / 4)),
          packetsToServer: 10n,
          packetsToClient: 10n,
          sessions: c.sessions ?? 1,
          firstSeen: now - 2,
          lastSeen: now,
          violations: c.verdict === 'allow' ? 0 : 1,
          threatSeverity: 0,
        })),
        dnsAnswers: [],
      },
      this.opts,
    );
  }
}
