import { describe, expect, it } from 'vitest';
import mqtt from './mqtt.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(mqtt);

// mqtt.pcap, 192.168.0.1:41892 -> 10.10.10.1:1883: MQIsdp (3.1) CONNECT, first octets.
const CONNECT_31 = '104000064d514973647003c200140016636261616263626162616362626262626161616161';
// mqtt.pcap, 100.67.35.238:35035 -> 51.137.28.239:1883: MQTT 3.1.1 CONNECT (2-octet remaining length).
const CONNECT_311 = '109a0200044d51545404c00258001050343737373549443137305732313230004a696f74617a65';
// MQTT 5.0 CONNECT: level 5, clean start, keep alive 60, no properties, client id "c".
const CONNECT_5 = '100e00044d5154540502003c00000163';
const CONNACK = '20020000';

describe('mqtt parser', () => {
  it('matches CONNECT of MQIsdp 3.1, MQTT 3.1.1 and 5.0', () => {
    for (const m of [CONNECT_31, CONNECT_311, CONNECT_5]) expect(run(mqtt, [[true, m]])[0], m).toBe(MATCH);
    expect(mqtt.app).toBe(App.MQTT);
  });

  it('checks the protocol name, level and reserved flag', () => {
    expect(run(mqtt, [[true, CONNECT_311.replace('4d515454', '4d515455')]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, CONNECT_311.replace('4d51545404', '4d51545403')]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, CONNECT_31.replace('4d514973647003', '4d514973647004')]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, CONNECT_311.replace('4d51545404c0', '4d51545404c1')]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, '11' + CONNECT_311.slice(2)]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, '10ffffffff7f']])[0]).toBe(NO_MATCH);
  });

  it('does not claim a session from the server side or from later packets', () => {
    expect(run(mqtt, [[false, CONNACK]])[0]).toBe(NO_MATCH);
    expect(run(mqtt, [[true, '821e00010019617374722f733732302f']])[0]).toBe(NO_MATCH);
  });

  it('waits for a cut CONNECT while its protocol name still fits', () => {
    expect(run(mqtt, [[true, CONNECT_311.slice(0, 12)]])[0]).toBe(CONTINUE);
    expect(run(mqtt, [[true, '109a0200044d5155']])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and every truncation', () => {
    expect(refusals(mqtt)).toBe(0);
    for (const m of [CONNECT_31, CONNECT_311]) expect(prefixMatches(mqtt, true, hex(m), 14)).toBe(0);
    for (let s = 1; s < 30; s++) randomSplits(mqtt, [[true, CONNECT_311]], s);
  });
});
