/**
 * Create or edit a rule in a modal. The API is the validator: its 400 names the field
 * (`body.ports`), and the message is shown under that form item.
 */
import { Alert, AutoComplete, Form, Input, Modal, Radio, Switch } from 'antd';
import { useEffect, useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { createRule, updateRule } from './api';
import type { Rule, RuleInput } from './types';
import { formItemOf, splitList } from './utils';

const ITEMS = ['from', 'to', 'ports', 'apps', 'action', 'enabled', 'comment'] as const;

interface FormValues {
  from: string;
  to: string;
  ports: string;
  apps: string;
  action: 'allow' | 'deny';
  enabled: boolean;
  comment: string;
}

interface Props {
  open: boolean;
  /** The rule being edited; null for a new one. */
  rule: Rule | null;
  /** Start values of a new rule (e.g. from a conversation on the map). */
  initial?: Partial<RuleInput>;
  groups: string[];
  onSaved(rule: Rule): void;
  onCancel(): void;
}

export function RuleForm({ open, rule, initial, groups, onSaved, onCancel }: Props) {
  const t = useT();
  const [form] = Form.useForm<FormValues>();
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    setFormError(null);
    const src = rule ?? initial ?? {};
    form.resetFields();
    form.setFieldsValue({
      from: src.from ?? '',
      to: src.to ?? '',
      ports: src.ports ?? 'any',
      apps: (src.apps ?? ['any']).join(','),
      action: src.action ?? 'allow',
      enabled: src.enabled ?? true,
      comment: src.comment ?? '',
    });
  }, [open, rule, initial, form]);

  const submit = async (v: FormValues) => {
    setSaving(true);
    setFormError(null);
    const input: RuleInput = { from: v.from.trim(), to: v.to.trim(), ports: v.ports.trim(), apps: splitList(v.apps), action: v.action, enabled: v.enabled, comment: v.comment };
    try {
      onSaved(rule ? await updateRule(rule.id, input) : await createRule(input));
    } catch (e) {
      const item = formItemOf(e, ITEMS);
      const message = e instanceof Error ? e.message : String(e);
      if (item) form.setFields([{ name: item, errors: [message] }]);
      else setFormError(message);
    } finally {
      setSaving(false);
    }
  };

  const groupOptions = groups.map((g) => ({ value: g }));
  const filter = (input: string, option?: { value: string }) => option?.value.toLowerCase().includes(input.toLowerCase()) ?? false;
  return (
    <Modal
      open={open}
      title={rule ? t('policies.form.editTitle', { id: rule.id }) : t('policies.form.newTitle')}
      okText={t('policies.form.save')}
      cancelText={t('policies.form.cancel')}
      confirmLoading={saving}
      onOk={() => form.submit()}
      onCancel={onCancel}
      destroyOnHidden
    >
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={submit} name="rule">
        <Form.Item name="from" label={t('policies.form.from')} rules={[{ required: true, message: t('policies.form.required') }]}>
          <AutoComplete options={groupOptions} filterOption={filter} />
        </Form.Item>
        <Form.Item name="to" label={t('policies.form.to')} rules={[{ required: true, message: t('policies.form.required') }]}>
          <AutoComplete options={groupOptions} filterOption={filter} />
        </Form.Item>
        <Form.Item name="ports" label={t('policies.form.ports')} extra={t('policies.form.portsHelp')}>
          <Input />
        </Form.Item>
        <Form.Item name="apps" label={t('policies.form.apps')} extra={t('policies.form.appsHelp')}>
          <Input />
        </Form.Item>
        <Form.Item name="action" label={t('policies.form.action')}>
          <Radio.Group
            options={[
              { value: 'allow', label: t('policies.action.allow') },
              { value: 'deny', label: t('policies.action.deny') },
            ]}
          />
        </Form.Item>
        <Form.Item name="enabled" label={t('policies.form.enabled')} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="comment" label={t('policies.form.comment')}>
          <Input.TextArea rows={2} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
