/**
 * CSV export of a filtered list: every page of the current filter is fetched (the table shows
 * one), written as RFC 4180 CSV and handed to the browser as a download.
 */
import { MAX_LIMIT, type Page } from './page';

/** Exports stop here; a larger log is narrowed with the filters first. */
export const MAX_EXPORT_ROWS = 100_000;

export async function fetchAll<T>(fetchPage: (limit: number, offset: number) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; offset < MAX_EXPORT_ROWS; offset += MAX_LIMIT) {
    const page = await fetchPage(MAX_LIMIT, offset);
    out.push(...page.items);
    if (page.items.length < MAX_LIMIT || out.length >= page.total) break;
  }
  return out;
}

function cell(v: string | number | boolean): string {
  const s = String(v);
  // Quote when needed; a leading =, +, - or @ would make a spreadsheet run the cell as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv<T>(rows: T[], columns: { header: string; value: (row: T) => string | number | boolean }[]): string {
  const lines = [columns.map((c) => cell(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function downloadText(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  // A BOM so spreadsheet programs read the UTF-8 (Chinese names, labels) correctly.
  const url = URL.createObjectURL(new Blob(['\ufeff', text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
