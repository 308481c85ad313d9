/** The time windows the log pages offer, as `since` for the API. */
import type { MessageKey } from '../app/i18n/messages';
import { DAY, HOUR, MINUTE } from './format';

export const WINDOWS = {
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': HOUR,
  '24h': DAY,
  '7d': 7 * DAY,
} as const;
export type WindowName = keyof typeof WINDOWS;

export const WINDOW_LABELS: Record<WindowName, MessageKey> = {
  '5m': 'common.window.5m',
  '15m': 'common.window.15m',
  '1h': 'common.window.1h',
  '24h': 'common.window.24h',
  '7d': 'common.window.7d',
};

export function isWindowName(v: string | null): v is WindowName {
  return v !== null && v in WINDOWS;
}

export function sinceOf(window: WindowName, now = Date.now()): number {
  return now - WINDOWS[window];
}
