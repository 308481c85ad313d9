import { defineMessages } from '../../app/i18n/define';

export default defineMessages(
  {
    'connections.title': 'Connections',
    'connections.from': 'From',
    'connections.to': 'To',
    'connections.endpointHelp': 'workload id, group name or external',
    'connections.badPort': 'A port is a number from 0 to 65535',
  },
  {
    'connections.title': '连接',
    'connections.from': '来源',
    'connections.to': '目标',
    'connections.endpointHelp': '工作负载 ID、分组名或 external',
    'connections.badPort': '端口是 0 到 65535 之间的数字',
  },
);
