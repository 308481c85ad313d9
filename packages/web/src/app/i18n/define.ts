/**
 * A small typed i18n: each feature declares its strings once in English and once in Simplified
 * Chinese with `defineMessages`; the zh-CN object must have exactly the English keys, so a string
 * cannot be added in one language only (the build fails). Placeholders are `{name}`.
 */
export const LANGS = ['en', 'zh-CN'] as const;
export type Lang = (typeof LANGS)[number];

export interface Messages<K extends string> {
  en: Record<K, string>;
  'zh-CN': Record<K, string>;
}

export function defineMessages<const E extends Record<string, string>>(en: E, zhCN: { [K in keyof E]: string }): Messages<Extract<keyof E, string>> {
  return { en, 'zh-CN': zhCN };
}

export type Params = Record<string, string | number>;

export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
