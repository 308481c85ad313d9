/**
 * Monitor/Protect switch of a service group. Going to Protect first asks the controller which
 * recent conversations would be blocked and lists them in the confirmation.
 */
import { App, Switch, Table, Typography } from 'antd';
import { useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { formatTime, portName } from '../../lib/format';
import { previewProtect, updateGroup } from './api';
import type { Group, WouldBlock } from './types';

export function ModeSwitch({ group, disabled, onChanged }: { group: Group; disabled: boolean; onChanged(g: Group): void }) {
  const t = useT();
  const { modal, message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const protect = group.mode === 'protect';

  const apply = async (mode: 'monitor' | 'protect') => {
    try {
      const g = await updateGroup(group.name, { mode });
      message.success(t('groups.modeChanged', { name: g.name, mode: t(`groups.mode.${mode}`) }));
      onChanged(g);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const toggle = async (next: boolean) => {
    setBusy(true);
    try {
      if (!next) {
        await modal.confirm({
          title: t('groups.monitor.title', { name: group.name }),
          content: t('groups.monitor.body'),
          okText: t('groups.monitor.ok'),
          cancelText: t('groups.cancel'),
          onOk: () => apply('monitor'),
        });
        return;
      }
      const preview = await previewProtect(group.name);
      await modal.confirm({
        title: t('groups.protect.title', { name: group.name }),
        width: 860,
        okText: t('groups.protect.ok'),
        okButtonProps: { danger: preview.total > 0 },
        cancelText: t('groups.cancel'),
        content:
          preview.total === 0 ? (
            <Typography.Paragraph>{t('groups.protect.none')}</Typography.Paragraph>
          ) : (
            <>
              <Typography.Paragraph>{t('groups.protect.some', { total: preview.total })}</Typography.Paragraph>
              <Table<WouldBlock>
                size="small"
                data-testid="protect-preview"
                rowKey={(r) => `${r.clientIp}>${r.serverIp}:${r.proto}/${r.serverPort}/${r.app}/${r.side}`}
                dataSource={preview.items}
                pagination={preview.items.length > 8 ? { pageSize: 8 } : false}
                columns={[
                  { title: t('groups.col.client'), key: 'c', render: (_, r) => r.clientWorkload || r.clientIp },
                  { title: t('groups.col.server'), key: 's', render: (_, r) => r.serverWorkload || r.serverIp },
                  { title: t('groups.col.port'), key: 'p', render: (_, r) => portName(r.proto, r.serverPort) },
                  { title: t('groups.col.app'), dataIndex: 'app' },
                  { title: t('groups.col.side'), key: 'side', render: (_, r) => t(`groups.side.${r.side}`) },
                  { title: t('groups.col.rule'), key: 'rule', render: (_, r) => (r.ruleId === 0 ? t('groups.implicitDeny') : `#${r.ruleId}`) },
                  { title: t('groups.col.sessions'), dataIndex: 'sessions', align: 'right' },
                  { title: t('groups.col.lastSeen'), key: 'l', render: (_, r) => formatTime(r.lastSeen) },
                ]}
              />
            </>
          ),
        onOk: () => apply('protect'),
      });
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Switch
      checked={protect}
      loading={busy}
      disabled={disabled}
      checkedChildren={t('groups.mode.protect')}
      unCheckedChildren={t('groups.mode.monitor')}
      aria-label={t('groups.modeSwitch', { name: group.name })}
      onChange={(v) => void toggle(v)}
    />
  );
}
