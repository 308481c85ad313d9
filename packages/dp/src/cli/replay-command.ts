import type { Command } from 'commander';
import { loadPolicyFile, replayCapture } from '../engine/replay.js';
import { flowJson, flowLine, threatLine } from './format.js';
import type { ThreatRecord } from '../threat/threat-log.js';

interface ReplayFlags {
  json?: boolean;
  summary?: boolean;
  policy?: string;
  threats?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('analyse a pcap or pcapng file: one line per flow, then a summary')
    .argument('<file>', 'capture file (pcap or pcapng)')
    .option('--json', 'one JSON object per flow, then a summary object')
    .option('--summary', 'print only the summary line (benchmarks)')
    .option('--policy <file>', 'evaluate a policy file (YAML or JSON) and add verdict and rule id')
    .option('--threats', 'list threat detections')
    .action((file: string, flags: ReplayFlags) => {
      const policy = flags.policy ? loadPolicyFile(flags.policy) : undefined;
      const out: string[] = [];
      const write = (line: string): void => {
        out.push(line);
        if (out.length >= 4096) flushOut(out);
      };
      const threats: ThreatRecord[] = [];
      const summary = replayCapture(file, {
        policy,
        onFlow: flags.summary ? undefined : (f) => write(flags.json ? flowJson(f) : flowLine(f)),
        onThreat: flags.threats ? (t) => threats.push(t) : undefined,
      });
      for (const t of threats) write(flags.json ? JSON.stringify({ threat: t }) : threatLine(t));
      const s = { packets: summary.packets, flows: summary.flows, malformed: summary.malformed, seconds: Number(summary.seconds.toFixed(3)) };
      write(flags.json || flags.summary ? JSON.stringify({ summary: s }) : `summary: ${s.packets} packets, ${s.flows} flows, ${s.malformed} malformed, ${s.seconds} s`);
      flushOut(out);
    });
}

function flushOut(out: string[]): void {
  if (out.length === 0) return;
  process.stdout.write(out.join('\n') + '\n');
  out.length = 0;
}
