/** One end of a conversation: the workload (linked to its page) or the outside address. */
import { Tooltip, Typography } from 'antd';
import { Link } from 'react-router';
import { useT } from '../app/i18n/I18nProvider';

export function Endpoint({ workload, ip, names }: { workload: string; ip: string; names: Map<string, string> }) {
  const t = useT();
  if (workload === '') {
    return (
      <span>
        {ip} <Typography.Text type="secondary">({t('field.external')})</Typography.Text>
      </span>
    );
  }
  return (
    <Tooltip title={ip}>
      <Link to={`/workloads/${encodeURIComponent(workload)}`}>{names.get(workload) ?? workload}</Link>
    </Tooltip>
  );
}
