import { defineMessages } from '../../app/i18n/define';

export default defineMessages(
  {
    'threats.title': 'Threats',
    'threats.name': 'Threat',
    'threats.threatId': 'Threat ID',
    'threats.minSeverity': 'At least',
    'threats.workload': 'Workload or group',
    'threats.detail': 'Threat #{id}',
    'threats.detailText': 'Detail of the latest detection',
    'threats.file': 'threats',
  },
  {
    'threats.title': '威胁',
    'threats.name': '威胁',
    'threats.threatId': '威胁 ID',
    'threats.minSeverity': '最低级别',
    'threats.workload': '工作负载或分组',
    'threats.detail': '威胁 #{id}',
    'threats.detailText': '最近一次检测的详情',
    'threats.file': '威胁',
  },
);
