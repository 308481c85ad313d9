/** Coloured tags for the API's enumerations, translated. */
import { Badge, Tag } from 'antd';
import { useT } from '../app/i18n/I18nProvider';
import type { AgentState } from '../features/agents/types';
import type { Verdict } from '../features/connections/types';
import type { Severity } from '../features/threats/types';
import type { ViolationAction } from '../features/violations/types';
import type { Mode, WorkloadState } from '../features/workloads/types';

const VERDICT_COLORS: Record<Verdict, string> = { allow: 'green', violate: 'orange', deny: 'red' };
const SEVERITY_COLORS: Record<Severity, string> = { critical: 'magenta', high: 'red', medium: 'orange', low: 'gold', info: 'blue' };

export function VerdictTag({ verdict }: { verdict: Verdict }) {
  const t = useT();
  return <Tag color={VERDICT_COLORS[verdict]}>{t(`verdict.${verdict}`)}</Tag>;
}

export function ActionTag({ action }: { action: ViolationAction }) {
  const t = useT();
  return <Tag color={VERDICT_COLORS[action]}>{t(`action.${action}`)}</Tag>;
}

export function SeverityTag({ severity }: { severity: Severity }) {
  const t = useT();
  return <Tag color={SEVERITY_COLORS[severity]}>{t(`severity.${severity}`)}</Tag>;
}

export function ModeTag({ mode }: { mode: Mode }) {
  const t = useT();
  return <Tag color={mode === 'protect' ? 'blue' : 'default'}>{t(`mode.${mode}`)}</Tag>;
}

export function AgentStateBadge({ state }: { state: AgentState }) {
  const t = useT();
  return <Badge status={state === 'online' ? 'success' : state === 'offline' ? 'warning' : 'error'} text={t(`agentState.${state}`)} />;
}

export function WorkloadStateBadge({ state }: { state: WorkloadState }) {
  const t = useT();
  return <Badge status={state === 'running' ? 'success' : state === 'stopped' ? 'default' : 'warning'} text={t(`workloadState.${state}`)} />;
}
