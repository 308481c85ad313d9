/**
 * The members that the criteria being edited would select, asked of the controller 300 ms after
 * the last change, so typing a value sends one request rather than one per key. Each request
 * aborts the one before (useApi), so a slow answer to old criteria never replaces a newer one.
 * Workloads coming and going while the editor is open ask again.
 */
import { useLiveEvents } from '../../lib/events';
import { useApi, type ApiState } from '../../lib/useApi';
import { previewGroup } from './api';
import type { Criterion, GroupPreview } from './types';

const DEBOUNCE_MS = 300;

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** `criteria` null: nothing to preview (the editor is closed). */
export function usePreview(criteria: Criterion[] | null): ApiState<GroupPreview | null> {
  // The form hands out new arrays on every render; the text is what says whether they changed.
  const key = criteria === null ? null : JSON.stringify(criteria);
  const state = useApi(async (signal) => {
    if (key === null) return null;
    await wait(DEBOUNCE_MS, signal);
    return previewGroup(JSON.parse(key) as Criterion[], signal);
  }, [key]);
  useLiveEvents(key === null ? [] : (['workloads', 'policy'] as const), () => state.reload());
  return state;
}
