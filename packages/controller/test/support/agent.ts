/** A real gRPC agent client (HTTP/2) for tests and benches that drive a controller from outside. */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AgentService, WorkloadState, type WatchPolicyResponse } from '@mseg/proto';

export type AgentClient = Client<typeof AgentService>;

export function agentClient(grpcPort: number): AgentClient {
  return createClient(AgentService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
}

export interface RegisteredAgent {
  id: string;
  /** Call options carrying the agent's credential. */
  opts: { headers: { authorization: string } };
}

export async function registerAgent(client: AgentClient, joinToken: string, host: string): Promise<RegisteredAgent> {
  const r = await client.register({ joinToken, host, agentVersion: '0.1.0', previousAgentId: '' });
  return { id: r.agentId, opts: { headers: { authorization: `Bearer ${r.agentId}.${r.credential}` } } };
}

/** A running container as an agent reports it; `service` names its automatic service group. */
export function workload(id: string, service: string, ip: string, host: string) {
  return {
    id,
    name: id,
    image: `registry.example/${service}:1`,
    labels: { app: service },
    service,
    host,
    pid: 100,
    netns: '/proc/100/ns/net',
    interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: [ip] }],
    state: WorkloadState.RUNNING,
    reason: '',
  };
}

/** Reads a watch stream message by message, failing when one takes longer than `ms`. */
export function streamReader(stream: AsyncIterable<WatchPolicyResponse>) {
  const it = stream[Symbol.asyncIterator]();
  return async (ms = 5000): Promise<WatchPolicyResponse> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no policy message within ${ms} ms`)), ms);
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) throw new Error('policy stream ended');
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  };
}
