import { Select } from 'antd';
import { useI18n } from './i18n/I18nProvider';
import type { Lang } from './i18n/define';

// Each language is named in itself, so a user who cannot read the current one still finds theirs.
const OPTIONS: { value: Lang; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'zh-CN', label: '简体中文' },
];

export function LanguageSelect() {
  const { lang, setLang, t } = useI18n();
  return <Select<Lang> aria-label={t('app.language')} value={lang} onChange={setLang} options={OPTIONS} style={{ width: 120 }} size="small" />;
}
