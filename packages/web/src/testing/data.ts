/** Answers of the controller shaped as its REST API gives them, for msw handlers. */
import type { Agent } from '../features/agents/types';
import type { Conversation } from '../features/connections/types';
import type { Violation } from '../features/violations/types';
import type { Page } from '../lib/page';

export function page<T>(items: T[], total = items.length): Page<T> {
  return { items, total, limit: 50, offset: 0 };
}

export function agent(over: Partial<Agent> = {}): Agent {
  return {
    id: 'agent-1',
    host: 'node-a',
    version: '0.1.0',
    state: 'online',
    registeredAt: Date.UTC(2026, 0, 1),
    lastSeen: Date.UTC(2026, 0, 2),
    policyRevision: 3,
    workloads: 2,
    status: { at: Date.UTC(2026, 0, 2), workloads: 2, protectedWorkloads: 1, dataPlane: { running: true, restarts: 0, packets: 1200, drops: 7, sessions: 30 }, problems: [] },
    ...over,
  };
}

export function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    clientWorkload: 'w-client',
    serverWorkload: 'w-server',
    clientIp: '172.17.0.2',
    serverIp: '172.17.0.3',
    serverPort: 5432,
    proto: 6,
    app: 'postgresql',
    verdict: 'allow',
    ruleId: 4,
    enforcedBy: 'server',
    bytes: 2048,
    packets: 20,
    sessions: 2,
    violations: 0,
    threatSeverity: 0,
    firstSeen: Date.UTC(2026, 0, 2, 10),
    lastSeen: Date.UTC(2026, 0, 2, 10, 5),
    ...over,
  };
}

export function violation(over: Partial<Violation> = {}): Violation {
  return {
    id: 7,
    clientWorkload: 'w-client',
    serverWorkload: 'w-server',
    clientIp: '172.17.0.2',
    serverIp: '172.17.0.3',
    serverPort: 22,
    proto: 6,
    app: 'ssh',
    ruleId: 0,
    enforcedBy: 'server',
    action: 'deny',
    reportedBy: 'dp',
    count: 3,
    firstSeen: Date.UTC(2026, 0, 2, 10),
    lastSeen: Date.UTC(2026, 0, 2, 10, 5),
    ...over,
  };
}
