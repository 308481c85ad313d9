/**
 * Renders `children(data)` once loaded, a spinner before the first answer, and the error state
 * with retry when loading failed, so no page is ever blank. When a reload fails after data was
 * shown, the error replaces the stale data: old numbers must not pass for current ones.
 */
import { Spin } from 'antd';
import type { ReactNode } from 'react';
import { useT } from '../app/i18n/I18nProvider';
import type { ApiState } from '../lib/useApi';
import { ApiErrorState } from './ApiErrorState';

export function AsyncContent<T>({ state, children }: { state: ApiState<T>; children: (data: T) => ReactNode }) {
  const t = useT();
  if (state.error) return <ApiErrorState error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Spin tip={t('app.loading')}><div style={{ minHeight: 120 }} /></Spin>;
  return <>{children(state.data)}</>;
}
