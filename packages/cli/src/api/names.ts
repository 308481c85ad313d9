/** Workload id → name, so connection and violation tables name both ends instead of 64 hex digits. */
import type { ApiClient, Page } from './client.js';

const PAGE = 1000;

export async function workloadNames(client: ApiClient): Promise<(id: string, ip: string) => string> {
  const names = new Map<string, string>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.json<Page<{ id: string; name: string }>>('GET', '/workloads', { query: { limit: PAGE, offset } });
    for (const w of page.items) names.set(w.id, w.name);
    if (offset + page.items.length >= page.total || page.items.length === 0) break;
  }
  // An outside address has no workload id: show the IP.
  return (id, ip) => (id ? (names.get(id) ?? id.slice(0, 12)) : ip);
}
