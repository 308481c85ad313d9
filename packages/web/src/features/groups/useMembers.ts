/**
 * Members of a saved group, re-read (debounced) when workloads change, so the list follows
 * containers coming and going while the editor is open.
 */
import { useRef } from 'react';
import { useLiveEvents } from '../../lib/events';
import { useApi, type ApiState } from '../../lib/useApi';
import { groupMembers } from './api';
import type { Page } from './types';

const DEBOUNCE_MS = 500;

export function useMembers(name: string | null): ApiState<Page<string> | null> {
  const state = useApi((signal) => (name ? groupMembers(name, signal) : Promise.resolve(null)), [name]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents(name ? (['workloads', 'policy'] as const) : [], () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      state.reload();
    }, DEBOUNCE_MS);
  });
  return state;
}
