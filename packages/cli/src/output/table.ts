/** Plain-text tables: a header row, columns padded to their widest cell, two spaces apart. */

export interface Column<T> {
  header: string;
  value(item: T): string | number;
}

export function renderTable<T>(items: readonly T[], columns: readonly Column<T>[]): string {
  const rows = [columns.map((c) => c.header), ...items.map((it) => columns.map((c) => String(c.value(it))))];
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  // The last column is not padded: no trailing blanks on any line.
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** A time in ms since the epoch as local `YYYY-MM-DD HH:MM:SS`; 0 or null as `-`. */
export function formatTime(ms: number | null): string {
  if (!ms) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

const PROTOS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };

export function formatPort(proto: number, port: number): string {
  const name = PROTOS[proto] ?? `ip${proto}`;
  return proto === 6 || proto === 17 ? `${name}/${port}` : name;
}
