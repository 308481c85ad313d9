import { afterEach, describe, expect, it } from 'vitest';
import { fileHeader, record, tcp4 } from '../testing/nflog-builder.js';
import { DenyLog } from './deny-log.js';
import type { DenyRecord } from './types.js';

/** A stand-in reader: says it listens, writes the pcap bytes given in hex, then lingers or exits. */
const READER = `process.stderr.write('listening on nflog:6573\\n'); process.stdout.write(Buffer.from(process.argv[1], 'hex')); if (process.argv[2] === 'exit') setTimeout(() => process.exit(0), 50); else setInterval(() => {}, 1000);`;

let log: DenyLog | undefined;
afterEach(() => log?.stop());

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(pred()).toBe(true);
}

describe('deny log readers', () => {
  it('turns each logged packet of a Protect namespace into a deny record with rule and direction', async () => {
    const pcap = Buffer.concat([
      fileHeader(true),
      record(true, 1_700_000_000, 0, 'mseg:in:0', tcp4([10, 0, 0, 3], [10, 0, 0, 2], 41000, 8080)),
      record(true, 1_700_000_000, 5000, 'mseg:out:12', tcp4([10, 0, 0, 2], [10, 0, 0, 9], 42000, 5432)),
      record(true, 1_700_000_000, 9000, 'someone else', tcp4([10, 0, 0, 2], [10, 0, 0, 9], 1, 2)),
    ]).toString('hex');
    const seen: DenyRecord[] = [];
    const netnsSeen: string[] = [];
    log = new DenyLog({
      onDeny: (d) => seen.push(d),
      command: (netns) => {
        netnsSeen.push(netns);
        return [process.execPath, '-e', READER, pcap];
      },
    });
    log.set(new Map([['w1', '/proc/42/ns/net']]));
    await log.ready('w1');
    await until(() => seen.length === 2);
    expect(netnsSeen).toEqual(['/proc/42/ns/net']);
    expect(seen).toEqual([
      { workloadId: 'w1', action: 'deny', ruleId: 0, direction: 'ingress', proto: 6, src: '10.0.0.3', dst: '10.0.0.2', srcPort: 41000, dstPort: 8080, at: 1_700_000_000_000 },
      { workloadId: 'w1', action: 'deny', ruleId: 12, direction: 'egress', proto: 6, src: '10.0.0.2', dst: '10.0.0.9', srcPort: 42000, dstPort: 5432, at: 1_700_000_000_005 },
    ]);
  });

  it('restarts a reader that exits, and stops readers of workloads that left Protect', async () => {
    const errors: string[] = [];
    let launches = 0;
    log = new DenyLog({
      onDeny: () => {},
      onError: (_id, m) => errors.push(m),
      command: () => {
        launches++;
        return [process.execPath, '-e', READER, fileHeader(true).toString('hex'), 'exit'];
      },
    });
    log.set(new Map([['w1', '/proc/42/ns/net']]));
    await until(() => launches >= 3);
    expect(errors[0]).toBe('deny-log reader exited (0); restarting');
    log.set(new Map());
    const after = launches;
    await new Promise((r) => setTimeout(r, 400));
    expect(launches).toBe(after);
    await expect(log.ready('w1')).rejects.toThrow('no deny-log reader for w1');
  });
});
