import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import kafka from './kafka.js';

const p = slotted(kafka);

// kafka.pcapng (nDPI test suite): librdkafka ApiVersions and Metadata, Java console producer.
const API_VERSIONS = '000000150012000000000004000772646b61666b6100000000';
const METADATA = '0000002800030002000000a4000772646b61666b610000000100114c425f4d41494e5f4c4f475f494e505554';
const METADATA_RESPONSE =
  '00000074000000a400000001000003e9000c3137322e33302e302e32333700002384ffff001651354e4e695850665232' +
  '7154416f46356937334a5067000003e900000001000000114c425f4d41494e5f4c4f475f494e50555400000000010000' +
  '00000000000003e900000001000003e900000001000003e9';
const PRODUCE =
  '000001bc0000000300000002000772646b61666b61ffff0001000013880000000100114c425f4d41494e5f4c4f475f49' +
  '4e505554000000010000000000000180';
const PRODUCE_RESPONSE =
  '00000039000000020000000100114c425f4d41494e5f4c4f475f494e505554000000010000000000000000000000ab3c' +
  '21ffffffffffffffff00000000';
const JAVA_API_VERSIONS =
  '0000003400120003000000030010636f6e736f6c652d70726f647563657200126170616368652d6b61666b612d6a6176' +
  '6106332e362e3100';
const JAVA_RESPONSE =
  '000001ba0000000300003d0000000000090000010000000f000002000000080000030000000c00000400000007000005' +
  '00000004000006000000080000070000';

describe('kafka', () => {
  it('matches a whole request with a printable client id', () => {
    for (const m of [API_VERSIONS, METADATA, JAVA_API_VERSIONS]) expect(run(p, [[true, m]])[0]).toBe(MATCH);
    // Two pipelined requests in one payload.
    expect(run(p, [[true, API_VERSIONS + METADATA]])[0]).toBe(MATCH);
  });

  it('matches a request that spans segments by the correlation id of its response', () => {
    // The Produce request is 448 bytes; only its first 64 are in this payload.
    expect(run(p, [[true, PRODUCE]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, PRODUCE], [false, PRODUCE_RESPONSE]])[0]).toBe(MATCH);
    expect(run(p, [[true, PRODUCE], [false, METADATA_RESPONSE]])[0]).toBe(NO_MATCH);
  });

  it('waits through server payloads seen before the first request', () => {
    expect(run(p, [[false, JAVA_RESPONSE], [true, METADATA]])[0]).toBe(MATCH);
  });

  it('refuses bad sizes, api keys, versions and client ids', () => {
    expect(run(p, [[true, API_VERSIONS.replace(/^00000015/, '00000014')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, API_VERSIONS.replace(/^000000150012/, '0000001500ff')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, API_VERSIONS.replace(/^0000001500120000/, '0000001500120063')]])[0]).toBe(NO_MATCH);
    // Empty and non-printable client ids.
    expect(run(p, [[true, '0000000e0012000000000001000000000000']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, API_VERSIONS.replace('72646b61666b61', '72646b01666b61')]])[0]).toBe(NO_MATCH);
    // Pipelined garbage after a whole request.
    expect(run(p, [[true, API_VERSIONS + 'ffffffffffffffff']])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    for (const m of [API_VERSIONS, METADATA, JAVA_API_VERSIONS]) expect(prefixMatches(p, true, hex(m))).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, API_VERSIONS], [false, JAVA_RESPONSE], [true, METADATA], [false, METADATA_RESPONSE]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
