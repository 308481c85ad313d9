/** Helpers of the policies page. */
import { ApiError } from '../../lib/api';

/**
 * The form item an API error belongs to: `body.apps.0` → `apps`, when the form has that item;
 * undefined otherwise (the message is then shown above the form).
 */
export function formItemOf<K extends string>(error: unknown, items: readonly K[]): K | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const first = error.formField?.split('.')[0];
  return items.find((i) => i === first);
}

/** The order after moving one id onto another's place (drag and drop). */
export function moveId(ids: readonly number[], moved: number, over: number): number[] {
  const from = ids.indexOf(moved);
  const to = ids.indexOf(over);
  if (from < 0 || to < 0 || from === to) return [...ids];
  const out = [...ids];
  out.splice(from, 1);
  out.splice(to, 0, moved);
  return out;
}

/** "tcp/80, udp/53" or "PostgreSQL,HTTP" typed by a user → the API's list. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
