/** Every request of the policies page. */
import { request } from '../../lib/api';
import type { Explanation, ImportResult, Rule, RuleInput } from './types';

interface Page<T> {
  items: T[];
  total: number;
}

/** The API's largest page; a policy with more rules is paged through. */
const PAGE = 1000;

export async function listRules(signal?: AbortSignal): Promise<Rule[]> {
  const out: Rule[] = [];
  for (;;) {
    const page = await request<Page<Rule>>('/policies', { query: { limit: PAGE, offset: out.length }, signal });
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}

export function createRule(rule: RuleInput): Promise<Rule> {
  return request<Rule>('/policies', { method: 'POST', body: rule });
}

export function updateRule(id: number, patch: Partial<RuleInput>): Promise<Rule> {
  return request<Rule>(`/policies/${id}`, { method: 'PATCH', body: patch });
}

export function deleteRule(id: number): Promise<void> {
  return request<void>(`/policies/${id}`, { method: 'DELETE' });
}

export async function reorderRules(ids: number[]): Promise<Rule[]> {
  return (await request<{ items: Rule[] }>('/policies/reorder', { method: 'POST', body: { ids } })).items;
}

export function exportPolicy(format: 'json' | 'yaml'): Promise<string> {
  return request<string>('/policies/export', { query: { format }, asText: true });
}

export function importPolicy(text: string, format: 'json' | 'yaml', mode: 'merge' | 'replace'): Promise<ImportResult> {
  return request<ImportResult>('/policies/import', { method: 'POST', query: { mode }, text, contentType: format === 'yaml' ? 'application/yaml' : 'application/json' });
}

export function explain(q: { from: string; to: string; port: string; app?: string }): Promise<Explanation> {
  return request<Explanation>('/policies/explain', { query: q });
}

/** Group names for the rule form's pickers. */
export async function groupNames(signal?: AbortSignal): Promise<string[]> {
  return (await request<Page<{ name: string }>>('/groups', { query: { limit: PAGE }, signal })).items.map((g) => g.name);
}
