import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DP_CLI = join(here, '../../dist/cli/main.js');
export const NDPI_DIR = join(here, '../../../../../shared/pcaps/ndpi');

export interface JsonFlow {
  l4: string;
  client: string;
  server: string;
  app: string;
  [k: string]: unknown;
}

export interface JsonSummary {
  packets: number;
  flows: number;
  malformed: number;
  seconds: number;
}

/** Runs `mseg-dp replay --json` on a capture, the way a user would. */
export function replayJson(file: string, extra: string[] = []): { flows: JsonFlow[]; summary: JsonSummary; threats: Record<string, unknown>[] } {
  const out = execFileSync(process.execPath, [DP_CLI, 'replay', '--json', ...extra, file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const flows: JsonFlow[] = [];
  const threats: Record<string, unknown>[] = [];
  let summary: JsonSummary | undefined;
  for (const line of out.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.summary) summary = o.summary as JsonSummary;
    else if (o.threat) threats.push(o.threat as Record<string, unknown>);
    else flows.push(o as JsonFlow);
  }
  if (!summary) throw new Error(`no summary line from replay of ${file}`);
  return { flows, summary, threats };
}

export interface ExpectedRow {
  pcap: string;
  l4: string;
  client: string;
  server: string;
  app: string;
}

export function readExpected(tsv: string): ExpectedRow[] {
  const lines = readFileSync(tsv, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cols = l.split('\t');
    const get = (k: string): string => cols[header.indexOf(k)];
    return { pcap: get('pcap'), l4: get('l4'), client: get('client'), server: get('server'), app: get('app') };
  });
}

/** Direction-agnostic key: nDPI sometimes printed the server as the client. */
export function flowKey(l4: string, a: string, b: string): string {
  return a < b ? `${l4} ${a} ${b}` : `${l4} ${b} ${a}`;
}
