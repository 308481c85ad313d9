/**
 * `mseg-dp replay` as a user runs it: text, --json, --summary, --policy and --threats, and the
 * coded errors for a bad policy file or a file that is not a capture.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFrame, buildPcap } from '../src/testing/frame-builder.js';
import { DP_CLI, replayJson } from './helpers/replay-cli.js';

const CAPTURES = join(dirname(fileURLToPath(import.meta.url)), 'captures');
const dir = mkdtempSync(join(tmpdir(), 'mseg-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [DP_CLI, 'replay', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mseg-dp replay', () => {
  const http = join(CAPTURES, 'http-v4-80.pcap');

  it('prints one human line per flow with app, packets, bytes and DPI findings, then a summary', () => {
    const r = run([http]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^summary: 20 packets, 2 flows, 0 malformed, [\d.]+ s$/);
    const flow = lines.find((l) => l.includes('host=app.test'));
    expect(flow).toMatch(/^TCP\s+10\.200\.0\.1:\d+ -> 10\.200\.0\.2:80\s+HTTP\s+pkts \d+\/\d+\s+bytes \d+\/\d+\s+host=app\.test\s+GET \/\s+status=200/);
  });

  it('--summary prints only the summary object', () => {
    const r = run(['--summary', http]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).summary).toMatchObject({ packets: 20, flows: 2, malformed: 0 });
  });

  it('--policy adds the verdict and the deciding rule', () => {
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, [
      'mode: protect',
      'rules:',
      '  - { id: 7, from: [10.200.0.0/24], to: [10.200.0.2], ports: tcp/80, apps: [HTTP], action: allow }',
      '  - { id: 8, from: [any], to: [any], ports: tcp/443, action: allow }',
    ].join('\n'));
    const { flows } = replayJson(http, ['--policy', policy]);
    expect(flows.map((f) => [f.verdict, f.ruleId])).toEqual([['allow', 7], ['allow', 7]]);
    const monitor = join(dir, 'monitor.json');
    writeFileSync(monitor, JSON.stringify({ mode: 'monitor', rules: [{ id: 8, ports: 'tcp/443', action: 'allow' }] }));
    expect(replayJson(http, ['--policy', monitor]).flows.map((f) => [f.verdict, f.ruleId])).toEqual([['violate', 0], ['violate', 0]]);
  });

  it('--threats lists detections', () => {
    const frames = [0, 1].map((i) => ({
      ts: 100 + i,
      frame: buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', sport: 5000 + i, dport: 80, flags: 'S', payload: 'data in a SYN' }),
    }));
    const file = join(dir, 'syn-data.pcap');
    writeFileSync(file, buildPcap(frames));
    const text = run(['--threats', file]);
    expect(text.stdout).toMatch(/THREAT 1005 TCP SYN with data \[low\] 10\.0\.0\.1:5000 -> 10\.0\.0\.2:80/);
    const { threats } = replayJson(file, ['--threats']);
    expect(threats[0]).toMatchObject({ id: 1005, name: 'TCP SYN with data', severity: 'low' });
  });

  it('names the field of a bad policy file and refuses a file that is not a capture', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - { id: 1, ports: tcp/70000, action: allow }\n');
    const r = run(['--policy', bad, http]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('MSEG_ERR_DP_POLICY_FILE');
    expect(r.stderr).toContain('rules.0.ports');
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'hello, this is not a pcap');
    const r2 = run([notCapture]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/MSEG_ERR_DP_CAPTURE_FILE: not a pcap or pcapng file/);
  });
});
