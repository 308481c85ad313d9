/**
 * Filters and paging of a list page kept in the URL's query string, so a reload, the back button
 * and a shared link all show the same list. Changing a filter goes back to the first page.
 */
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

export const DEFAULT_PAGE_SIZE = 50;

export interface UrlFilters<K extends string> {
  values: Record<K, string | undefined>;
  page: number;
  size: number;
  /** Changes on every filter or page change: a dependency for loading. */
  key: string;
  setFilters: (next: Partial<Record<K, string | undefined>>) => void;
  setPage: (page: number, size: number) => void;
}

function positive(text: string | null, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function useUrlFilters<K extends string>(keys: readonly K[], defaults: Partial<Record<K, string>> = {}): UrlFilters<K> {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const values = useMemo(
    () => Object.fromEntries(keys.map((k) => [k, params.get(k) ?? defaults[k]])) as Record<K, string | undefined>,
    // keys and defaults are constants of the calling page; the query string is what changes.
    [key],
  );
  const setFilters = useCallback(
    (next: Partial<Record<K, string | undefined>>) => {
      setParams((prev) => {
        const out = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(next) as [K, string | undefined][]) {
          if (v === undefined || v === '') out.delete(k);
          else out.set(k, v);
        }
        out.delete('page');
        return out;
      });
    },
    [setParams],
  );
  const setPage = useCallback(
    (page: number, size: number) => {
      setParams((prev) => {
        const out = new URLSearchParams(prev);
        if (page > 1) out.set('page', String(page));
        else out.delete('page');
        if (size !== DEFAULT_PAGE_SIZE) out.set('size', String(size));
        else out.delete('size');
        return out;
      });
    },
    [setParams],
  );
  return { values, page: positive(params.get('page'), 1), size: Math.min(positive(params.get('size'), DEFAULT_PAGE_SIZE), 1000), key, setFilters, setPage };
}
