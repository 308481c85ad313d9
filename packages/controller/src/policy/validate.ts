/**
 * Semantic checks of groups and rules beyond what the REST schemas can say (cilium's
 * rule_validation: sanitize before insert). Each failure is a 400 naming the field, e.g.
 * `body.criteria.0.value`, so nothing half-valid reaches the store.
 */
import { APP_NAMES, appId, parseCidr, parsePorts } from '@mseg/dp';
import safeRegex from 'safe-regex2';
import { MsegError } from '../errors.js';
import { type Criterion, type CriterionKey, SERVICE_PREFIX, isReserved } from './model.js';

/** Group names: short, printable, usable in URLs and CLI arguments without quoting. */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Same grammar as the DP's peer domains: labels of letters, digits, `_`, `-`, optional `*.` in front. */
const DOMAIN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;
export const MAX_CRITERION_VALUE = 256;
/** A longer pattern buys nothing for matching names and labels and widens the ReDoS surface. */
export const MAX_REGEX = 128;
const WORKLOAD_KEYS: readonly CriterionKey[] = ['image', 'name', 'label', 'service', 'host'];

function bad(field: string, message: string): MsegError {
  return new MsegError('MSEG_ERR_VALIDATION', `${field}: ${message}`, field);
}

/** A name a user may give a new group: not reserved, not in the service groups' namespace. */
export function checkUserGroupName(name: string, field: string): void {
  if (!GROUP_NAME.test(name)) throw bad(field, 'must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');
  if (isReserved(name)) throw bad(field, `"${name}" is a reserved group`);
  if (name.startsWith(SERVICE_PREFIX)) throw bad(field, `names starting with "${SERVICE_PREFIX}" belong to service groups, which are made automatically`);
}

/**
 * Checks a regex criterion: bounded length, a valid pattern, and no nested quantifiers or other
 * star height > 1 (safe-regex2), the shapes that backtrack exponentially, like `(a+)+$`.
 */
export function checkRegex(pattern: string, field: string): void {
  if (pattern.length > MAX_REGEX) throw bad(field, `regex longer than ${MAX_REGEX} characters`);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw bad(field, `not a valid regex (${(e as Error).message})`);
  }
  if (!safeRegex(pattern)) throw bad(field, 'regex may take exponential time (nested quantifiers); simplify it');
}

/** Validates and normalises criteria (trimmed values, lower-case domains). */
export function checkCriteria(criteria: Criterion[], field: string): Criterion[] {
  const out: Criterion[] = [];
  criteria.forEach((c, i) => {
    const f = `${field}.${i}`;
    const value = c.value.trim();
    if (value === '') throw bad(`${f}.value`, 'must not be empty');
    if (value.length > MAX_CRITERION_VALUE) throw bad(`${f}.value`, `longer than ${MAX_CRITERION_VALUE} characters`);
    if (c.key === 'address' || c.key === 'domain') {
      if (c.op !== '=' && c.op !== '!=') throw bad(`${f}.op`, `${c.key} criteria take "=" or "!="`);
      if (c.key === 'address' && parseCidr(value) === null) throw bad(`${f}.value`, 'not an IPv4/IPv6 address or CIDR');
      if (c.key === 'domain' && !DOMAIN.test(value)) throw bad(`${f}.value`, 'not a domain name (a leading "*." wildcard is allowed)');
      out.push({ key: c.key, op: c.op, value: c.key === 'domain' ? value.toLowerCase() : value });
      return;
    }
    let subject = value;
    if (c.key === 'label') {
      const eq = value.indexOf('=');
      if (eq === 0) throw bad(`${f}.value`, 'label criteria are "key=value" or "key"');
      if (eq < 0 && c.op !== '=' && c.op !== '!=') throw bad(`${f}.value`, `"${c.op}" needs "key=value" (a bare "key" tests presence with = or !=)`);
      subject = eq < 0 ? '' : value.slice(eq + 1);
    }
    if (c.op === 'regex') checkRegex(subject, `${f}.value`);
    out.push({ key: c.key, op: c.op, value });
  });
  const positivePeers = out.some((c) => (c.key === 'address' || c.key === 'domain') && c.op === '=');
  const positiveWorkload = out.some((c) => WORKLOAD_KEYS.includes(c.key) && c.op !== '!=');
  // An address group stands for CIDRs and domains handed to the DP as they are; the DP's peer sets
  // have no negation, so such a group cannot also exclude anything.
  if (positivePeers && !positiveWorkload) {
    const neg = out.findIndex((c) => c.op === '!=');
    if (neg >= 0) throw bad(`${field}.${neg}.op`, 'a group of addresses/domains cannot exclude; add a positive image, name, label, service or host criterion');
  }
  return out;
}

/** Rule ports, in the DP's grammar: `any` | `tcp/80,udp/53,tcp/8000-8080`. */
export function checkPorts(ports: string, field: string): string {
  const r = parsePorts(ports);
  if (typeof r === 'string') throw bad(field, r);
  return ports.trim().toLowerCase() === '' ? 'any' : ports.trim().toLowerCase();
}

/** `['any']` or known application names, stored in the DP's spelling. */
export function checkApps(apps: string[], field: string): string[] {
  if (apps.length === 0) throw bad(field, 'must name at least one application or "any"');
  if (apps.some((a) => a.toLowerCase() === 'any')) {
    if (apps.length > 1) throw bad(field, '"any" cannot be combined with application names');
    return ['any'];
  }
  const out: string[] = [];
  apps.forEach((a, i) => {
    const id = appId(a);
    if (id <= 0) throw bad(`${field}.${i}`, `unknown application "${a}"`);
    if (!out.includes(APP_NAMES[id])) out.push(APP_NAMES[id]);
  });
  return out;
}
