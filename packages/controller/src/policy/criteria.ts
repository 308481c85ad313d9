/**
 * Group criteria compiled once into a matcher (regexes built once, CIDRs parsed once). A group
 * either selects workloads by their attributes, or (only address/domain criteria) stands for
 * addresses, known or not: then its peers are the CIDRs and domain patterns themselves.
 */
import { cidrContains, parseAddress, parseCidr, type Cidr } from '@mseg/dp';
import type { Criterion, CriterionKey } from './model.js';

/** What a criterion can look at in a workload; `ips` are canonical address texts. */
export interface WorkloadFacts {
  id: string;
  name: string;
  image: string;
  service: string;
  host: string;
  labels: Record<string, string>;
  ips: string[];
  words: Uint32Array[];
}

/** Names the DP saw in DNS answers, by canonical address. */
export type DnsIndex = ReadonlyMap<string, readonly string[]>;

type Test = (w: WorkloadFacts, dns: DnsIndex) => boolean;

/** `*.example.com` matches names below example.com but not example.com itself; else exact (as the DP). */
export function domainMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.length > pattern.length - 1 && name.endsWith(pattern.slice(1));
  return pattern === name;
}

function stringTest(op: Criterion['op'], value: string): (s: string | undefined) => boolean {
  switch (op) {
    case '=':
      return (s) => s === value;
    case '!=':
      return (s) => s !== value;
    case 'contains':
      return (s) => s !== undefined && s.includes(value);
    case 'prefix':
      return (s) => s !== undefined && s.startsWith(value);
    case 'regex': {
      const re = new RegExp(value);
      return (s) => s !== undefined && re.test(s);
    }
  }
}

function ipInAny(cidr: Cidr, w: WorkloadFacts): boolean {
  for (const words of w.words) if (cidrContains(cidr, words)) return true;
  return false;
}

function namesMatch(pattern: string, ip: string, dns: DnsIndex): boolean {
  const names = dns.get(ip);
  if (names) for (const n of names) if (domainMatches(pattern, n)) return true;
  return false;
}

function positiveTest(c: Criterion): Test {
  switch (c.key) {
    case 'address': {
      const cidr = parseCidr(c.value) as Cidr;
      return (w) => ipInAny(cidr, w);
    }
    case 'domain':
      return (w, dns) => w.ips.some((ip) => namesMatch(c.value, ip, dns));
    case 'label': {
      const eq = c.value.indexOf('=');
      if (eq < 0) return (w) => Object.hasOwn(w.labels, c.value);
      const key = c.value.slice(0, eq);
      const t = stringTest(c.op === '!=' ? '=' : c.op, c.value.slice(eq + 1));
      return (w) => t(Object.hasOwn(w.labels, key) ? w.labels[key] : undefined);
    }
    default: {
      const key = c.key;
      const t = stringTest(c.op === '!=' ? '=' : c.op, c.value);
      return (w) => t(w[key]);
    }
  }
}

export interface GroupMatcher {
  /** No workload attribute is tested positively: the group stands for its CIDRs and domains. */
  addressGroup: boolean;
  /** An address group's peers as the DP takes them (IP, CIDR or domain pattern). */
  peers: string[];
  /** An `=` criterion usable to narrow candidates from an index (see membership.ts). */
  indexKey: { key: Exclude<CriterionKey, 'address' | 'domain'>; value: string } | null;
  matchesWorkload(w: WorkloadFacts, dns: DnsIndex): boolean;
  /** Whether an address outside any workload falls in this (address) group. */
  matchesAddress(ip: string, dns: DnsIndex): boolean;
}

/** Criteria are assumed valid (validate.ts). Empty criteria select nothing. */
export function compileCriteria(criteria: readonly Criterion[]): GroupMatcher {
  // Positive criteria are ORed within their dimension; address and domain share one dimension
  // ("where"), so `address=10.0.0.0/8, domain=*.example.com` means either.
  const dims = new Map<string, Test[]>();
  const negatives: Test[] = [];
  for (const c of criteria) {
    const t = positiveTest(c);
    if (c.op === '!=') {
      negatives.push(t);
      continue;
    }
    const dim = c.key === 'address' || c.key === 'domain' ? 'where' : c.key;
    const list = dims.get(dim) ?? [];
    list.push(t);
    dims.set(dim, list);
  }
  const ors = [...dims.values()];
  const addressGroup = dims.has('where') && dims.size === 1;
  const peers = addressGroup ? criteria.filter((c) => c.op === '=').map((c) => c.value) : [];
  const cidrs = addressGroup ? criteria.filter((c) => c.key === 'address').map((c) => parseCidr(c.value) as Cidr) : [];
  const domains = addressGroup ? criteria.filter((c) => c.key === 'domain').map((c) => c.value) : [];
  // Narrowing by an index is exact only for a dimension with a single alternative.
  const first = criteria.find(
    (c) =>
      c.op === '=' &&
      c.key !== 'address' &&
      c.key !== 'domain' &&
      (c.key !== 'label' || c.value.includes('=')) &&
      dims.get(c.key)?.length === 1,
  );
  const indexKey = first ? { key: first.key as Exclude<CriterionKey, 'address' | 'domain'>, value: first.value } : null;
  const empty = criteria.length === 0;

  return {
    addressGroup,
    peers,
    indexKey,
    matchesWorkload(w, dns) {
      if (empty) return false;
      for (const alternatives of ors) {
        let any = false;
        for (const t of alternatives) {
          if (t(w, dns)) {
            any = true;
            break;
          }
        }
        if (!any) return false;
      }
      for (const t of negatives) if (t(w, dns)) return false;
      return true;
    },
    matchesAddress(ip, dns) {
      if (!addressGroup) return false;
      const words = parseAddress(ip);
      if (words) for (const c of cidrs) if (cidrContains(c, words)) return true;
      for (const d of domains) if (namesMatch(d, ip, dns)) return true;
      return false;
    },
  };
}
