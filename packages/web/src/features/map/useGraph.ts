/**
 * The graph of the chosen window. In the live window, new connection data, workload changes and
 * policy changes (modes) reload it, at most once per LIVE_MIN_INTERVAL_MS however many agents
 * report: a busy cluster sends an event per report batch.
 */
import { useEffect, useRef } from 'react';
import { useLiveEvents } from '../../lib/events';
import { useApi, type ApiState } from '../../lib/useApi';
import { fetchGraph } from './api';
import type { Graph, TimeWindow } from './types';

export const LIVE_MIN_INTERVAL_MS = 2000;

export function useGraph(window: TimeWindow): ApiState<Graph> {
  const state = useApi((signal) => fetchGraph(window, signal), [window]);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reload = state.reload;

  useLiveEvents(window === 'live' ? (['connections', 'workloads', 'policy'] as const) : [], () => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + LIVE_MIN_INTERVAL_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      reload();
    }, wait);
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return state;
}
