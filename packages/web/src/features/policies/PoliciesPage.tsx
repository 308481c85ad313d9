/** The ordered rules: reorder, enable, create/edit/delete, import/export, and explain a flow. */
import { DownloadOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { App, Button, Card, Dropdown, Flex, Select, Space, Typography, Upload } from 'antd';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useCanEdit } from '../../app/auth/AuthProvider';
import { useT } from '../../app/i18n/I18nProvider';
import { AsyncContent } from '../../components/AsyncContent';
import { useLiveEvents } from '../../lib/events';
import { useApi } from '../../lib/useApi';
import { deleteRule, exportPolicy, groupNames, importPolicy, listRules, reorderRules, updateRule } from './api';
import { ExplainForm } from './ExplainForm';
import { RuleForm } from './RuleForm';
import { RulesTable } from './RulesTable';
import type { Rule, RuleInput } from './types';

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export function PoliciesPage() {
  const t = useT();
  const { message } = App.useApp();
  const canEdit = useCanEdit();
  const rules = useApi((signal) => listRules(signal), []);
  const groups = useApi((signal) => groupNames(signal), []);
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState<Rule | null>(null);
  const [creating, setCreating] = useState(false);
  const [importMode, setImportMode] = useState<'merge' | 'replace'>('merge');
  // The order shown while a reorder is being saved, so the row does not jump back meanwhile.
  const [pendingOrder, setPendingOrder] = useState<Rule[] | null>(null);

  // Other users' changes (and imports) show up without a reload.
  useLiveEvents(['policy'], () => rules.reload());

  // "Create rule from this conversation" on the map opens the form prefilled from the URL.
  const prefill = useMemo<Partial<RuleInput> | undefined>(() => {
    if (params.get('new') !== '1') return undefined;
    const action = params.get('action');
    return {
      from: params.get('from') ?? '',
      to: params.get('to') ?? '',
      ports: params.get('ports') ?? 'any',
      apps: (params.get('apps') ?? 'any').split(','),
      action: action === 'deny' ? 'deny' : 'allow',
    };
  }, [params]);
  const formOpen = canEdit && (creating || editing !== null || prefill !== undefined);
  const closeForm = () => {
    setCreating(false);
    setEditing(null);
    if (prefill) setParams({}, { replace: true });
  };

  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));

  const reorder = async (list: Rule[], ids: number[]) => {
    const byId = new Map(list.map((r) => [r.id, r]));
    setPendingOrder(ids.map((id) => byId.get(id) as Rule));
    try {
      await reorderRules(ids);
      message.success(t('policies.reordered'));
    } catch (e) {
      fail(e);
    }
    rules.reload();
    setPendingOrder(null);
  };

  const doImport = async (file: File) => {
    const format = /\.ya?ml$/i.test(file.name) ? 'yaml' : 'json';
    try {
      const r = await importPolicy(await file.text(), format, importMode);
      message.success(t('policies.imported', { rulesCreated: r.rulesCreated, rulesUpdated: r.rulesUpdated, rulesDeleted: r.rulesDeleted, groupsCreated: r.groupsCreated, groupsUpdated: r.groupsUpdated }));
      rules.reload();
      groups.reload();
    } catch (e) {
      fail(e);
    }
  };

  const doExport = async (format: 'json' | 'yaml') => {
    try {
      download(`mseg-policy.${format}`, await exportPolicy(format), format === 'yaml' ? 'application/yaml' : 'application/json');
    } catch (e) {
      fail(e);
    }
  };

  return (
    <Flex vertical gap="middle">
      <Flex justify="space-between" align="center" wrap gap="small">
        <div>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('policies.title')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('policies.intro')}</Typography.Text>
        </div>
        <Space wrap>
          {canEdit && (
            <>
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                {t('policies.new')}
              </Button>
              <Select
                aria-label={t('policies.importMode')}
                value={importMode}
                onChange={setImportMode}
                options={[
                  { value: 'merge', label: t('policies.import.merge') },
                  { value: 'replace', label: t('policies.import.replace') },
                ]}
              />
              <Upload accept=".json,.yaml,.yml" showUploadList={false} beforeUpload={(file) => (void doImport(file), false)}>
                <Button icon={<UploadOutlined />}>{t('policies.import')}</Button>
              </Upload>
            </>
          )}
          <Dropdown
            menu={{
              items: [
                { key: 'json', label: t('policies.export.json') },
                { key: 'yaml', label: t('policies.export.yaml') },
              ],
              onClick: ({ key }) => void doExport(key as 'json' | 'yaml'),
            }}
          >
            <Button icon={<DownloadOutlined />}>{t('policies.export')}</Button>
          </Dropdown>
        </Space>
      </Flex>
      <Card size="small">
        <AsyncContent state={rules}>
          {(list) => (
            <RulesTable
              rules={pendingOrder ?? list}
              canEdit={canEdit}
              onReorder={(ids) => void reorder(list, ids)}
              onToggle={(r, enabled) =>
                updateRule(r.id, { enabled }).then(
                  () => rules.reload(),
                  (e: unknown) => fail(e),
                )
              }
              onEdit={setEditing}
              onDelete={(r) =>
                deleteRule(r.id).then(
                  () => {
                    message.success(t('policies.deleted', { id: r.id }));
                    rules.reload();
                  },
                  (e: unknown) => fail(e),
                )
              }
            />
          )}
        </AsyncContent>
      </Card>
      <ExplainForm />
      <RuleForm
        open={formOpen}
        rule={editing}
        initial={prefill}
        groups={groups.data ?? []}
        onCancel={closeForm}
        onSaved={(r) => {
          message.success(t('policies.saved', { id: r.id }));
          closeForm();
          rules.reload();
        }}
      />
    </Flex>
  );
}
