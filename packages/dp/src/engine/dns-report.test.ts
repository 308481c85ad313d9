// The A/AAAA answers the data plane sees leave with its report, each (name, address) once per
// report, for the agent's FQDN map and the controller's domain groups.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DnsAnswerRecord } from '../control/messages.js';
import { readCaptureFile } from '../source/capture-file.js';
import { DataPlane } from './data-plane.js';

const capture = (name: string): string => fileURLToPath(new URL(`../../test/captures/${name}`, import.meta.url));

function replay(dp: DataPlane, name: string): void {
  readCaptureFile(capture(name), (lt, buf, off, cap, wire, ts) => dp.handleFrame(lt, buf, off, cap, wire, ts, 0));
}

describe('DNS answers in the report', () => {
  it('go out once per (name, address) with their TTL, and only the ones learned since the last report', () => {
    const sent: DnsAnswerRecord[][] = [];
    const dp = new DataPlane({ sessions: 1024, onDnsAnswers: (a) => sent.push(a) });
    // Both captures resolve app.test to the same two addresses, in different sessions.
    replay(dp, 'dns-udp-v4-53.pcap');
    replay(dp, 'dns-udp-v4-5353.pcap');
    dp.report();
    expect(sent).toHaveLength(1);
    const pairs = sent[0].map((a) => `${a.name} ${a.addr}`).sort();
    expect(pairs).toEqual(['app.test 10.200.0.2', 'app.test fd00:200::2']);
    // The reference server (dnsmasq --host-record) answers with TTL 0.
    expect(sent[0].map((a) => a.ttl)).toEqual([0, 0]);
    dp.report();
    expect(sent).toHaveLength(1);
    replay(dp, 'dns-tcp-v6-53.pcap');
    dp.flush();
    expect(sent).toHaveLength(2);
    expect(sent[1].map((a) => a.addr).sort()).toEqual(['10.200.0.2', 'fd00:200::2']);
  });

  it('are not collected when nobody takes them', () => {
    const dp = new DataPlane({ sessions: 1024 });
    replay(dp, 'dns-udp-v4-53.pcap');
    // The data plane's own table learns them all the same (its policy uses it).
    expect(dp.fqdn.namesOf(new Uint32Array([0, 0, 0xffff, 0x0ac80002]))).toEqual(new Set(['app.test']));
  });
});
