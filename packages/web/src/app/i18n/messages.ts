/**
 * Every feature's strings, merged. A feature adds its `messages.ts` to `ALL`; keys are prefixed
 * with the feature name, and a key defined twice fails the i18n test.
 */
import common from './common.messages';
import type { Lang, Messages } from './define';
import dashboard from '../../features/dashboard/messages';
import login from '../../features/login/messages';
import shared from '../../features/shared.messages';
import map from '../../features/map/messages';
import policies from '../../features/policies/messages';
import groups from '../../features/groups/messages';
import agents from '../../features/agents/messages';
import connections from '../../features/connections/messages';
import threats from '../../features/threats/messages';
import violations from '../../features/violations/messages';
import workloads from '../../features/workloads/messages';

export const ALL = [common, shared, login, dashboard, map, policies, groups, workloads, connections, violations, threats, agents] as const;

type KeysOf<T> = T extends Messages<infer K> ? K : never;
export type MessageKey = KeysOf<(typeof ALL)[number]>;

function merge(lang: Lang): Record<MessageKey, string> {
  return Object.assign({}, ...ALL.map((m) => m[lang])) as Record<MessageKey, string>;
}

export const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { en: merge('en'), 'zh-CN': merge('zh-CN') };
