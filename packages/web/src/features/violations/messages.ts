import { defineMessages } from '../../app/i18n/define';

export default defineMessages(
  {
    'violations.title': 'Violations',
    'violations.workload': 'Either end',
    'violations.detail': 'Violation #{id}',
    'violations.file': 'violations',
  },
  {
    'violations.title': '违规',
    'violations.workload': '任一端',
    'violations.detail': '违规 #{id}',
    'violations.file': '违规',
  },
);
