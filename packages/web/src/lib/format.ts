/** Number, size and time formatting shared by the pages. */
import dayjs from 'dayjs';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1536 → "1.5 KB" (powers of 1024, one decimal below 10). */
export function formatBytes(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 10 ? Math.round(v) : v.toFixed(1)} ${UNITS[u]}`;
}

export function formatTime(ms: number): string {
  return dayjs(ms).format('YYYY-MM-DD HH:mm:ss');
}

/** `tcp/80`, `udp/53`, `icmp`, `ip/<n>`: the controller's names for a server port. */
export function portName(proto: number, port: number): string {
  if (proto === 6) return `tcp/${port}`;
  if (proto === 17) return `udp/${port}`;
  if (proto === 1 || proto === 58) return 'icmp';
  return `ip/${proto}`;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
