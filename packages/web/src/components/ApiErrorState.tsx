/** What a page shows when its data could not be loaded: the controller's message and a retry. */
import { Button, Result } from 'antd';
import { useT } from '../app/i18n/I18nProvider';
import { ApiError } from '../lib/api';

export function ApiErrorState({ error, onRetry }: { error: Error; onRetry: () => void }) {
  const t = useT();
  const network = error instanceof ApiError && error.status === 0;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div role="alert">
      <Result
        status="error"
        title={t('error.title')}
        subTitle={
          <>
            <div>{network ? t('error.network') : error.message}</div>
            {code && !network ? <div>{t('error.code', { code })}</div> : null}
          </>
        }
        extra={
          <Button type="primary" onClick={onRetry}>
            {t('error.retry')}
          </Button>
        }
      />
    </div>
  );
}
