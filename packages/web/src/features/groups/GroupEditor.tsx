/**
 * Create or edit a user group: name, comment and criteria, with the members of the saved group
 * beside the form. The API validates; its 400 names the field (`body.criteria.0.value`) and the
 * message is shown under that input.
 */
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Col, Drawer, Form, Input, List, Row, Select, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiError } from '../../lib/api';
import { createGroup, updateGroup } from './api';
import { CRITERION_KEYS, CRITERION_OPS, type Criterion, type Group } from './types';
import { useMembers } from './useMembers';

interface FormValues {
  name: string;
  comment: string;
  criteria: Criterion[];
}

interface Props {
  open: boolean;
  group: Group | null;
  onSaved(g: Group): void;
  onClose(): void;
}

/** `body.criteria.0.value` → ['criteria', 0, 'value'] as a form path. */
function formPath(e: unknown): (string | number)[] | null {
  if (!(e instanceof ApiError) || !e.formField) return null;
  const path = e.formField.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return ['name', 'comment', 'criteria'].includes(String(path[0])) ? path : null;
}

export function GroupEditor({ open, group, onSaved, onClose }: Props) {
  const t = useT();
  const [form] = Form.useForm<FormValues>();
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState<string | null>(group?.name ?? null);
  const members = useMembers(open ? saved : null);

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    form.setFieldsValue({ name: group?.name ?? '', comment: group?.comment ?? '', criteria: group?.criteria ?? [] });
    setSaved(group?.name ?? null);
    setDirty(false);
    setFormError(null);
  }, [open, group, form]);

  const submit = async (v: FormValues) => {
    setSaving(true);
    setFormError(null);
    const body = { name: v.name.trim(), comment: v.comment ?? '', criteria: v.criteria ?? [] };
    try {
      const g = saved ? await updateGroup(saved, saved === body.name ? { comment: body.comment, criteria: body.criteria } : body) : await createGroup(body);
      setSaved(g.name);
      setDirty(false);
      members.reload();
      onSaved(g);
    } catch (e) {
      const path = formPath(e);
      const msg = e instanceof Error ? e.message : String(e);
      // The path comes from the API, so it is typed as the form's general name path.
      if (path) form.setFields([{ name: path as never, errors: [msg] }]);
      else setFormError(msg);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Drawer
      open={open}
      width={880}
      onClose={onClose}
      title={group ? t('groups.form.editTitle', { name: group.name }) : t('groups.form.newTitle')}
      extra={
        <Button type="primary" loading={saving} onClick={() => form.submit()}>
          {t('groups.form.save')}
        </Button>
      }
    >
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Row gutter={24}>
        <Col span={15}>
          <Form form={form} layout="vertical" onFinish={submit} onValuesChange={() => setDirty(true)} name="group">
            <Form.Item name="name" label={t('groups.form.name')} rules={[{ required: true, message: t('groups.form.required') }]}>
              <Input />
            </Form.Item>
            <Form.Item name="comment" label={t('groups.form.comment')}>
              <Input />
            </Form.Item>
            <Typography.Text strong>{t('groups.form.criteria')}</Typography.Text>
            <Form.List name="criteria">
              {(fields, { add, remove }) => (
                <>
                  {fields.map((f) => (
                    <Space key={f.key} align="baseline" style={{ display: 'flex', marginTop: 8 }}>
                      <Form.Item name={[f.name, 'key']} rules={[{ required: true, message: t('groups.form.required') }]}>
                        <Select aria-label={t('groups.form.key')} style={{ width: 110 }} options={CRITERION_KEYS.map((k) => ({ value: k, label: k }))} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'op']} rules={[{ required: true, message: t('groups.form.required') }]}>
                        <Select aria-label={t('groups.form.op')} style={{ width: 110 }} options={CRITERION_OPS.map((o) => ({ value: o, label: o }))} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'value']}>
                        <Input aria-label={t('groups.form.value')} style={{ width: 220 }} />
                      </Form.Item>
                      <MinusCircleOutlined aria-label={t('groups.form.removeCriterion')} onClick={() => remove(f.name)} />
                    </Space>
                  ))}
                  <Button type="dashed" icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => add({ key: 'service', op: '=', value: '' })}>
                    {t('groups.form.addCriterion')}
                  </Button>
                </>
              )}
            </Form.List>
          </Form>
        </Col>
        <Col span={9}>
          <Typography.Title level={5}>{t('groups.preview.title', { total: members.data?.total ?? 0 })}</Typography.Title>
          <Typography.Paragraph type={dirty ? 'warning' : 'secondary'}>{dirty ? t('groups.preview.unsaved') : t('groups.preview.saved')}</Typography.Paragraph>
          {members.error ? (
            <Alert type="error" showIcon message={members.error.message} />
          ) : (
            <List size="small" bordered dataSource={members.data?.items ?? []} locale={{ emptyText: t('groups.preview.empty') }} renderItem={(id) => <List.Item>{id}</List.Item>} />
          )}
        </Col>
      </Row>
    </Drawer>
  );
}
