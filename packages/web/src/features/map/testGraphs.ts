/** Graphs shaped as GET /graph answers them, and an msw handler serving them, for the map's tests. */
import { http, HttpResponse } from 'msw';
import { screen } from '@testing-library/react';
import { server } from '../../testing/server';
import type { Graph, GraphEdge, GraphNode } from './types';

export const node = (id: string, group: string, over: Partial<GraphNode> = {}): GraphNode => ({ id, kind: 'workload', name: id, group, mode: 'monitor', ...over });
export const edge = (from: string, to: string, over: Partial<GraphEdge> = {}): GraphEdge => ({
  from,
  to,
  ports: ['tcp/80'],
  apps: ['HTTP'],
  bytes: 1000,
  sessions: 1,
  violations: 0,
  verdict: 'allow',
  lastSeen: Date.UTC(2026, 0, 2),
  ruleIds: [1],
  ...over,
});
export const graph = (nodes: GraphNode[], edges: GraphEdge[]): Graph => ({ level: 'workload', since: 0, until: Date.UTC(2026, 0, 2), nodes, edges });

export const small = graph(
  [node('web-1', 'svc.web'), node('web-2', 'svc.web'), node('db-1', 'svc.db', { mode: 'protect' }), node('203.0.113.9', 'external', { kind: 'external', mode: null })],
  [edge('web-1', 'db-1', { ports: ['tcp/5432'], apps: ['PostgreSQL'] }), edge('web-2', 'db-1', { ports: ['tcp/5432'], apps: ['PostgreSQL'] }), edge('203.0.113.9', 'web-1', { verdict: 'deny', violations: 1, ruleIds: [0] })],
);

/** The canvas's accessible summary: what the map has in its scene. */
export const summary = async (nodes: number, edges: number) => screen.findByRole('img', { name: `Network map: ${nodes} nodes, ${edges} connections` });

export function serve(answers: Graph[]): URLSearchParams[] {
  const queries: URLSearchParams[] = [];
  server.use(
    http.get('/api/v1/graph', ({ request }) => {
      queries.push(new URL(request.url).searchParams);
      return HttpResponse.json(answers[Math.min(queries.length, answers.length) - 1]);
    }),
  );
  return queries;
}
