import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { ascii, hex, newFlow, offer, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import amqp from './amqp.js';

const p = slotted(amqp);

// amqp.pcap (nDPI test suite, Celery over RabbitMQ, all mid-stream): Basic.Publish method frame,
// its content header and body, and a server payload of several frames.
const PUBLISH = '01000100000021003c002800000863656c657279657610776f726b65722e68656172746265617400ce';
const CONTENT_HEADER =
  '02000100000058003c00000000000000000127f800106170706c69636174696f6e2f6a736f6e057574662d380000002d' +
  '08686f73746e616d65530000001f63656c65727940746573742e636f676e69746f6e6574776f726b732e636f6d0200ce';
const BODY =
  '030001000001277b2273775f737973223a20224c696e7578222c2022636c6f636b223a203339313732352c202274696d' +
  '657374616d70223a20313439303930343136362e3131383538332c2022686f73';
const SERVER_FRAMES =
  '01000300000029003c003c01330000000000006176000863656c657279657610776f726b65722e686561727462656174' +
  'ce02000300000058003c00000000000000000127f800106170706c69636174696f6e2f6a736f6e057574662d38000000' +
  '2d08686f73746e616d65530000001f63656c65727940746573742e636f676e69746f6e6574776f726b732e636f6d0200' +
  'ce030003000001277b2273775f737973223a20224c696e7578222c2022636c6f636b223a203339313732352c20227469' +
  '6d657374616d70223a20313439303930343136362e3131383538332c2022686f73746e616d65223a202263656c657279' +
  '40746573742e636f676e69746f6e6574776f726b732e636f6d222c2022706964223a20313839342c202273775f766572' +
  '223a2022332e312e3138222c20227574636f6666736574223a20302c20226c6f6164617667223a205b302e37382c2030' +
  '2e35362c20302e34325d2c202270726f636573736564223a203131333934322c2022616374697665223a20302c202266' +
  '726571223a20322e302c202274797065223a2022776f726b65722d686561727462656174222c202273775f6964656e74' +
  '223a202270792d63656c657279227dce';
/** 4.2.2 protocol headers: 0-9-1, and 1.0 plain and SASL. */
const HEADER_091 = '414d515000000901';
const HEADER_10 = '414d515000010000';
const HEADER_10_SASL = '414d515003010000';
/** Connection.Start on channel 0 (version 0.9, empty server properties, mechanisms "PLAIN", locales "en_US"). */
const CONNECTION_START = '010000' + '0000001c' + '000a000a' + '0009' + '00000000' + '00000005504c41494e' + '00000005656e5f5553' + 'ce';
const HEARTBEAT = '0800000000000000ce';
// RabbitMQ 3.10 (Debian) answering pika 1.2 on a non-standard port: Connection.Start, and
// Basic.Get-Ok followed by the message's content header and body in one segment.
const RABBITMQ_START =
  '010000000001ed000a000a0009000001c80c6361706162696c697469657346000000c7127075626c69736865725f636f' +
  '6e6669726d7374011a65786368616e67655f65786368616e67655f62696e64696e677374010a62617369632e6e61636b' +
  '740116636f6e73756d65725f63616e63656c5f6e6f74696679740112636f6e6e656374696f6e2e626c6f636b65647401' +
  '13636f6e73756d65725f7072696f72697469657374011c61757468656e7469636174696f6e5f6661696c7572655f636c' +
  '6f73657401107065725f636f6e73756d65725f716f7374010f6469726563745f7265706c795f746f74010c636c757374' +
  '65725f6e616d65530000000664627040766d09636f707972696768745300000037436f70797269676874202863292032' +
  '3030372d3230323220564d776172652c20496e632e206f722069747320616666696c69617465732e0b696e666f726d61' +
  '74696f6e53000000394c6963656e73656420756e64657220746865204d504c20322e302e20576562736974653a206874' +
  '7470733a2f2f7261626269746d712e636f6d08706c6174666f726d530000001145726c616e672f4f54502032352e322e' +
  '330770726f6475637453000000085261626269744d510776657273696f6e5300000006332e31302e380000000e414d51' +
  '504c41494e20504c41494e00000005656e5f5553ce';
const RABBITMQ_GET_OK =
  '01000100000016003c0047000000000000000100000364627000000000ce0200010000000e003c000000000000000000' +
  '0a0000ce0300010000000a68656c6c6f206d736567ce';

describe('amqp', () => {
  it('matches the protocol headers', () => {
    for (const h of [HEADER_091, HEADER_10, HEADER_10_SASL]) expect(run(p, [[true, h]])[0]).toBe(MATCH);
    expect(run(p, [[true, '414d515001010009']])[0]).toBe(CONTINUE);
    expect(run(p, [[true, HEADER_091 + '00']])[0]).toBe(CONTINUE);
  });

  it('matches whole method frames mid-stream, alone or followed by more frames', () => {
    expect(run(p, [[true, PUBLISH]])[0]).toBe(MATCH);
    expect(run(p, [[false, SERVER_FRAMES]])[0]).toBe(MATCH);
    expect(run(p, [[false, CONNECTION_START]])[0]).toBe(MATCH);
    expect(run(p, [[true, HEADER_091], [false, RABBITMQ_START]])[0]).toBe(MATCH);
    expect(run(p, [[false, RABBITMQ_START]])[0]).toBe(MATCH);
    expect(run(p, [[false, RABBITMQ_GET_OK]])[0]).toBe(MATCH);
    expect(run(p, [[true, PUBLISH + CONTENT_HEADER + BODY]])[0]).toBe(MATCH);
  });

  it('does not match header, body or heartbeat frames alone, and gives up after a few payloads', () => {
    expect(run(p, [[true, CONTENT_HEADER]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, HEARTBEAT]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, BODY], [false, HEARTBEAT], [true, CONTENT_HEADER], [false, HEARTBEAT]])[0]).toBe(NO_MATCH);
  });

  it('refuses unknown methods, a missing frame-end and bad heartbeats', () => {
    const f = newFlow();
    for (let i = 0; i < 3; i++) offer(p, f, true, ascii('x'));
    expect(offer(p, f, true, hex(PUBLISH.replace('003c0028', '003c0029')))).toBe(NO_MATCH);
    expect(run(p, [[true, PUBLISH.replace(/ce$/, 'cf')], [true, ''], [true, ''], [true, '']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, PUBLISH + '0800010000000000ce'], [true, ''], [true, ''], [true, '']])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    expect(prefixMatches(p, true, hex(PUBLISH))).toBe(0);
    expect(prefixMatches(p, true, hex(HEADER_091))).toBe(0);
    expect(prefixMatches(p, false, hex(CONNECTION_START))).toBe(0);
    expect(prefixMatches(p, false, hex(RABBITMQ_START))).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, HEADER_091], [false, CONNECTION_START], [true, PUBLISH], [true, CONTENT_HEADER], [false, SERVER_FRAMES]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
