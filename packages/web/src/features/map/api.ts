/** Every request of the network map. */
import { request } from '../../lib/api';
import type { Explanation, Graph, TimeWindow } from './types';

const WINDOW_MS: Record<TimeWindow, number> = { live: 5 * 60_000, '15m': 15 * 60_000, '1h': 60 * 60_000, '24h': 24 * 60 * 60_000 };

/**
 * The graph at workload level for a window ending now. Always workload level: the map rolls
 * groups up itself, so a group can be expanded without another request.
 */
export function fetchGraph(window: TimeWindow, signal?: AbortSignal): Promise<Graph> {
  const until = Date.now();
  return request<Graph>('/graph', { query: { level: 'workload', since: until - WINDOW_MS[window], until }, signal });
}

/** The verdict of a conversation as the current policy decides it. */
export function explainFlow(from: string, to: string, port: string, app?: string, signal?: AbortSignal): Promise<Explanation> {
  return request<Explanation>('/policies/explain', { query: { from, to, port, app }, signal });
}
