/**
 * A list page (connections, violations, threats, workloads, agents): a filter toolbar kept in the
 * URL, optionally with a time window, a paged table loaded from the API, reloads from the live
 * event stream, and optionally a details drawer and CSV export of every row the filter matches.
 * A page describes its filters, columns and details; the toolbar, paging, loading and error
 * states are the same on all of them.
 */
import { DownloadOutlined } from '@ant-design/icons';
import { App, Button, Drawer, Form, Input, InputNumber, Select, Space, Switch, Table, Typography } from 'antd';
import type { Rule } from 'antd/es/form';
import type { ColumnsType } from 'antd/es/table';
import { useState, type ReactNode } from 'react';
import { useT } from '../app/i18n/I18nProvider';
import type { MessageKey } from '../app/i18n/messages';
import { downloadText, fetchAll, toCsv } from '../lib/csv';
import { useLiveEvents, type LiveEventName } from '../lib/events';
import { formatTime } from '../lib/format';
import type { Page } from '../lib/page';
import { useApi } from '../lib/useApi';
import { useThrottled } from '../lib/useThrottled';
import { useUrlFilters } from '../lib/useUrlFilters';
import { isWindowName, sinceOf, WINDOW_LABELS, WINDOWS, type WindowName } from '../lib/window';
import { ApiErrorState } from './ApiErrorState';

/** Live events reload the page at most this often. */
export const LIVE_RELOAD_MS = 2_000;

/** One filter of the toolbar: its query field (the API's name too), label and input. */
export type FilterField<F> = {
  name: keyof F & string;
  label: MessageKey;
  tooltip?: MessageKey;
  placeholder?: MessageKey;
  width?: number;
  rules?: Rule[];
} & ({ input: 'text' } | { input: 'number'; min?: number } | { input: 'select'; options: { value: string; label: string }[] });

export interface CsvColumn<T> {
  header: string;
  value: (row: T) => string | number | boolean;
}

interface Props<T, F> {
  title: MessageKey;
  filters: readonly FilterField<F>[];
  /** The time window shown first; without one the list has no window (nor `since`). */
  defaultWindow?: WindowName;
  list: (query: F & { limit: number; offset: number }, signal?: AbortSignal) => Promise<Page<T>>;
  columns: ColumnsType<T>;
  rowKey: keyof T & string | ((row: T) => string);
  /** The live events whose arrival reloads the table. */
  events: readonly LiveEventName[];
  /**
   * 'always': reloads on any page. 'switch': the same behind a toggle (on at first), with the
   * time of the last load. 'first-page': only while the first (newest) page is shown, so a page
   * of a log being read does not shift under the reader.
   */
  live: 'always' | 'switch' | 'first-page';
  details?: { title: (row: T) => string; render: (row: T) => ReactNode };
  csv?: { file: MessageKey; columns: CsvColumn<T>[] };
}

type FormValues = Record<string, string | number | null | undefined>;

export function ListPage<T extends object, F extends object>({ title, filters, defaultWindow, list, columns, rowKey, events, live, details, csv }: Props<T, F>) {
  const t = useT();
  const { message } = App.useApp();
  const f = useUrlFilters<string>([...filters.map((d) => d.name), 'window'], defaultWindow ? { window: defaultWindow } : {});
  const window: WindowName | undefined = isWindowName(f.values.window ?? null) ? (f.values.window as WindowName) : defaultWindow;
  const [liveOn, setLiveOn] = useState(true);
  const [loadedAt, setLoadedAt] = useState<number>();
  const [open, setOpen] = useState<T | null>(null);
  const [exporting, setExporting] = useState(false);

  // The URL holds text; numeric filters go to the API as numbers (the form shows them so too).
  const formValue = (d: FilterField<F>): string | number | undefined => {
    const v = f.values[d.name];
    return v !== undefined && d.input === 'number' ? Number(v) : v;
  };
  // The URL's values as the API's filters; the controller validates them (a bad link answers 400).
  const query = (): F => Object.fromEntries([...filters.map((d) => [d.name, formValue(d)]), ...(window ? [['since', sinceOf(window)]] : [])]) as F;

  const state = useApi(async (signal) => {
    const page = await list({ ...query(), limit: f.size, offset: (f.page - 1) * f.size }, signal);
    setLoadedAt(Date.now());
    return page;
  }, [f.key]);
  const reload = useThrottled(state.reload, LIVE_RELOAD_MS);
  useLiveEvents(events, () => {
    if (live === 'always' || (live === 'switch' ? liveOn : f.page === 1)) reload();
  });

  const search = (v: FormValues) => {
    const next: Record<string, string | undefined> = { window: v.window === undefined ? undefined : String(v.window) };
    for (const d of filters) {
      const value = v[d.name];
      next[d.name] = value === undefined || value === null ? undefined : String(value).trim();
    }
    f.setFilters(next);
  };

  const exportCsv = async (spec: NonNullable<typeof csv>) => {
    setExporting(true);
    try {
      const q = query();
      const rows = await fetchAll((limit, offset) => list({ ...q, limit, offset }));
      downloadText(`mseg-${t(spec.file)}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`, toCsv(rows, spec.columns));
    } catch (err) {
      void message.error(err instanceof Error ? err.message : String(err));
    } finally {
      setExporting(false);
    }
  };

  const detailsColumn: ColumnsType<T> = details
    ? [
        {
          title: '',
          key: 'details',
          render: (_, row) => (
            <Button type="link" onClick={(e) => (e.stopPropagation(), setOpen(row))}>
              {t('common.details')}
            </Button>
          ),
        },
      ]
    : [];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t(title)}</Typography.Title>
      <Form<FormValues> layout="inline" key={f.key} initialValues={{ ...Object.fromEntries(filters.map((d) => [d.name, formValue(d)])), window }} onFinish={search} style={{ rowGap: 8 }}>
        {filters.map((d) => (
          <Form.Item key={d.name} name={d.name as string} label={t(d.label)} tooltip={d.tooltip && t(d.tooltip)} rules={d.rules}>
            {d.input === 'text' ? (
              <Input allowClear placeholder={d.placeholder && t(d.placeholder)} style={{ width: d.width }} />
            ) : d.input === 'number' ? (
              <InputNumber min={d.min} style={{ width: d.width }} />
            ) : (
              <Select allowClear style={{ width: d.width }} options={d.options} />
            )}
          </Form.Item>
        ))}
        {window && (
          <Form.Item name="window" label={t('common.window')}>
            <Select style={{ width: 150 }} options={(Object.keys(WINDOWS) as WindowName[]).map((w) => ({ value: w, label: t(WINDOW_LABELS[w]) }))} />
          </Form.Item>
        )}
        <Button type="primary" htmlType="submit">
          {t('common.search')}
        </Button>
        {csv && (
          <Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void exportCsv(csv)} style={{ marginLeft: 8 }}>
            {t('common.exportCsv')}
          </Button>
        )}
      </Form>
      {live === 'switch' && (
        <Space>
          <Switch checked={liveOn} onChange={setLiveOn} aria-label={t('common.liveUpdates')} />
          <span>{t('common.liveUpdates')}</span>
          {loadedAt ? <Typography.Text type="secondary">{t('common.updated', { time: formatTime(loadedAt) })}</Typography.Text> : null}
        </Space>
      )}
      {state.error ? (
        <ApiErrorState error={state.error} onRetry={state.reload} />
      ) : (
        <Table<T>
          rowKey={rowKey}
          size="middle"
          loading={state.loading && !state.data}
          dataSource={state.data?.items}
          onRow={details ? (row) => ({ onClick: () => setOpen(row), style: { cursor: 'pointer' } }) : undefined}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[...columns, ...detailsColumn]}
        />
      )}
      {details && (
        <Drawer open={open !== null} onClose={() => setOpen(null)} title={open ? details.title(open) : ''} size={480}>
          {open ? details.render(open) : null}
        </Drawer>
      )}
    </Space>
  );
}
