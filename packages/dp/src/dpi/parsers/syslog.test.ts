import { describe, expect, it } from 'vitest';
import syslog from './syslog.js';
import { App } from '../apps.js';
import { MATCH, NO_MATCH } from '../parser.js';
import { ascii, newFlow, offer, prefixMatches, refusals, slotted } from '../../../test/db-kit.js';

slotted(syslog);

// Messages from syslog.pcap (first octets of each).
const REAL = [
  '<26>Jan 01 00:01:47 nb6 nbd: 01=7;03=95.136.242.54;04=NB6-FXC-r2;05=E0A1D718C270',
  '<134>854 08/20/2013-19:05:28 CONFIG QLA23XX PCIDEV03 Idle qla23xxStMachRun.cxx 6\n\n\0',
  '<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED: Interface GigabitEthernet0/2, changed state',
  '<133>ssg: NetScreen device_id=0185082008001541  [Root]system-notification-00257(traffic)',
  '<30>snmpd[6956]: Connection from UDP: [127.0.0.1]:21311 ',
  '<45>1 2022-03-02T12:39:47.689392-01:00 pfsense filterlog 44120 - - 5,,,1000000103,pppoe0',
  '<134> 2021-04-18 15:12:38+04:00 10.126.20.68 Log,     65934,0/3/0/0,224.2.2.231,1',
];
// syslog.pcap, 10.186.117.194:49948 -> 169.46.82.162:52173: RFC 5424 over TCP, non-transparent framing.
const TCP_5424 = '<22>1 2021-04-18T14:51:48+04:00 iPhone7,2 com.dts.freefireth - - - [1.60.1-4.0.5] <60BF7143-144>\n';

function udp() {
  return Object.assign(newFlow(), { l4: 17 });
}

describe('syslog parser', () => {
  it('matches RFC 5424, RFC 3164 and free-form device messages in either direction', () => {
    for (const m of REAL) {
      expect(offer(syslog, udp(), true, ascii(m)), m).toBe(MATCH);
      expect(offer(syslog, udp(), false, ascii(m)), m).toBe(MATCH);
    }
    expect(offer(syslog, newFlow(), true, ascii(TCP_5424))).toBe(MATCH);
    expect(syslog.app).toBe(App.Syslog);
  });

  it('skips RFC 6587 octet counting on TCP', () => {
    expect(offer(syslog, newFlow(), true, ascii(`${TCP_5424.length} ${TCP_5424}`))).toBe(MATCH);
    expect(offer(syslog, udp(), true, ascii(`${TCP_5424.length} ${TCP_5424}`))).toBe(NO_MATCH);
  });

  it('checks PRI and that the content is text', () => {
    for (const m of ['<192>Jan  1 host x: y', '<012>Jan  1 host x: y', '<>Jan  1', '<1234>Jan', '<13>', '<13>ab', '<13>\u0001abcdef', '<13>  spaces', '<13>abc\u0000def\u0000']) {
      expect(offer(syslog, udp(), true, ascii(m)), JSON.stringify(m)).toBe(NO_MATCH);
    }
    expect(offer(syslog, udp(), true, ascii('<0>kernel: panic'))).toBe(MATCH);
    expect(offer(syslog, udp(), true, ascii('<13>h\u00e9llo w\u00f6rld caf\u00e9'))).toBe(MATCH);
  });

  it('refuses other protocols, random bytes and every truncation', () => {
    expect(refusals(syslog)).toBe(0);
    // Any longer cut of a message is still a (shorter) syslog message.
    expect(prefixMatches(syslog, true, ascii(REAL[0]), 8)).toBe(0);
  });
});
