/**
 * Names of workloads by id, for pages that show conversation ends (the API gives ids). Loaded
 * once per page visit in pages of the API's largest size; an id not found is shown as is.
 */
import { useApi } from '../../lib/useApi';
import { MAX_LIMIT } from '../../lib/page';
import { listWorkloads } from './api';

/** Enough for any single-cluster deployment; past it, ids show instead of names. */
const MAX_PAGES = 20;

async function loadNames(signal: AbortSignal): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const p = await listWorkloads({ limit: MAX_LIMIT, offset: page * MAX_LIMIT }, signal);
    for (const w of p.items) names.set(w.id, w.name);
    if ((page + 1) * MAX_LIMIT >= p.total) break;
  }
  return names;
}

export function useWorkloadNames(): Map<string, string> {
  const { data } = useApi(loadNames, []);
  return data ?? new Map();
}
