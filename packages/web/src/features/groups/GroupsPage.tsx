/** Groups: members and mode at a glance, the Monitor/Protect switch, and the criteria editor. */
import { PlusOutlined } from '@ant-design/icons';
import { App, Button, Card, Flex, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useCanEdit } from '../../app/auth/AuthProvider';
import { useT } from '../../app/i18n/I18nProvider';
import { AsyncContent } from '../../components/AsyncContent';
import { useLiveEvents } from '../../lib/events';
import { useApi } from '../../lib/useApi';
import { deleteGroup, listGroups } from './api';
import { GroupEditor } from './GroupEditor';
import { ModeSwitch } from './ModeSwitch';
import type { Group } from './types';

export function GroupsPage() {
  const t = useT();
  const { message } = App.useApp();
  const canEdit = useCanEdit();
  const groups = useApi((signal) => listGroups(signal), []);
  const [editor, setEditor] = useState<{ open: boolean; group: Group | null }>({ open: false, group: null });
  // Member counts and modes change with workloads and policy, also by other users.
  useLiveEvents(['workloads', 'policy'], () => groups.reload());

  const remove = (g: Group) =>
    deleteGroup(g.name).then(
      () => {
        message.success(t('groups.deleted', { name: g.name }));
        groups.reload();
      },
      (e: unknown) => message.error(e instanceof Error ? e.message : String(e)),
    );

  return (
    <Flex vertical gap="middle">
      <Flex justify="space-between" align="center" wrap gap="small">
        <div>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('groups.title')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('groups.intro')}</Typography.Text>
        </div>
        {canEdit && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditor({ open: true, group: null })}>
            {t('groups.new')}
          </Button>
        )}
      </Flex>
      <Card size="small">
        <AsyncContent state={groups}>
          {(page) => (
            <Table<Group>
              rowKey="name"
              size="middle"
              dataSource={page.items}
              pagination={page.items.length > 50 ? { pageSize: 50 } : false}
              columns={[
                { title: t('groups.col.name'), dataIndex: 'name', sorter: (a, b) => a.name.localeCompare(b.name) },
                {
                  title: t('groups.col.kind'),
                  key: 'kind',
                  filters: (['user', 'service', 'reserved'] as const).map((k) => ({ text: t(`groups.kind.${k}`), value: k })),
                  onFilter: (v, g) => g.kind === v,
                  render: (_, g) => <Tag>{t(`groups.kind.${g.kind}`)}</Tag>,
                },
                {
                  title: t('groups.col.mode'),
                  key: 'mode',
                  render: (_, g) => (g.kind === 'service' ? <ModeSwitch group={g} disabled={!canEdit} onChanged={() => groups.reload()} /> : '—'),
                },
                { title: t('groups.col.members'), dataIndex: 'members', align: 'right', sorter: (a, b) => a.members - b.members },
                {
                  title: t('groups.col.criteria'),
                  key: 'criteria',
                  render: (_, g) => (
                    <Space size={4} wrap>
                      {g.criteria.map((c, i) => (
                        <Tag key={i}>{`${c.key} ${c.op} ${c.value}`}</Tag>
                      ))}
                    </Space>
                  ),
                },
                { title: t('groups.col.comment'), dataIndex: 'comment', ellipsis: true },
                ...(canEdit
                  ? [
                      {
                        title: t('groups.col.actions'),
                        key: 'actions',
                        render: (_: unknown, g: Group) =>
                          g.kind === 'user' ? (
                            <Space size="small">
                              <Button size="small" onClick={() => setEditor({ open: true, group: g })}>
                                {t('groups.edit')}
                              </Button>
                              <Popconfirm title={t('groups.deleteConfirm', { name: g.name })} onConfirm={() => remove(g)}>
                                <Button size="small" danger>
                                  {t('groups.delete')}
                                </Button>
                              </Popconfirm>
                            </Space>
                          ) : null,
                      },
                    ]
                  : []),
              ]}
            />
          )}
        </AsyncContent>
      </Card>
      <GroupEditor
        open={editor.open}
        group={editor.group}
        onClose={() => setEditor({ open: false, group: null })}
        onSaved={(g) => {
          message.success(t('groups.saved', { name: g.name }));
          groups.reload();
        }}
      />
    </Flex>
  );
}
