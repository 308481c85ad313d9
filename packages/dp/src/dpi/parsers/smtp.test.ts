import { describe, expect, it } from 'vitest';
import smtp from './smtp.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { ascii, prefixMatches, randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(smtp);

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// smtp.pcap, 194.7.248.153:2127 -> 172.16.114.207:25.
const GREETING = hexOf('220 pigeon.eyrie.af.mil ESMTP Sendmail 8.8.7/8.8.7; Sat, 7 Aug 1999 08:20:11 -0400\r\n');
const EHLO = hexOf('EHLO delta.peach.mil\r\n');
const HELO_REPLY = hexOf('250 (delta.peach.mil) pleased to meet you.\r\n');
const PLAIN_220 = hexOf('220 mx.example.org ready\r\n');
const FTP_220 = hexOf('220 (vsFTPd 3.0.3)\r\n');

describe('smtp parser', () => {
  it('matches a greeting that names ESMTP and keeps it as the banner', () => {
    const [v, n, f] = run(smtp, [[false, GREETING]]);
    expect([v, n]).toEqual([MATCH, 1]);
    expect(f.meta.banner).toBe('pigeon.eyrie.af.mil ESMTP Sendmail 8.8.7/8.8.7; Sat, 7 Aug 1999 08:20:11 -0400');
    expect(smtp.app).toBe(App.SMTP);
  });

  it('matches a plain 220 greeting once the client says EHLO or HELO', () => {
    expect(run(smtp, [[false, PLAIN_220]])[0]).toBe(CONTINUE);
    const [v, , f] = run(smtp, [[false, PLAIN_220], [true, EHLO]]);
    expect(v).toBe(MATCH);
    expect(f.meta.banner).toBe('mx.example.org ready');
    expect(run(smtp, [[false, hexOf('220-mx.example.org first line\r\n')], [false, hexOf('220 second\r\n')], [true, hexOf('helo x\r\n')]])[0]).toBe(MATCH);
  });

  it('matches from the client HELO on when the server answers 250', () => {
    expect(run(smtp, [[true, EHLO], [false, HELO_REPLY]])[0]).toBe(MATCH);
    expect(run(smtp, [[true, EHLO], [false, hexOf('220 hi\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('leaves FTP greetings and logins alone', () => {
    expect(run(smtp, [[false, FTP_220], [true, hexOf('USER anonymous\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(smtp, [[false, hexOf('220 ftp.example.org FTP server ready\r\n')], [true, hexOf('AUTH TLS\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and every truncation', () => {
    // The foreign set includes an ESMTP greeting, rightly matched when the server sends it.
    expect(refusals(smtp)).toBe(1);
    expect(prefixMatches(smtp, false, ascii(Buffer.from(GREETING, 'hex').toString('latin1')))).toBe(0);
    for (let s = 1; s < 30; s++) randomSplits(smtp, [[false, GREETING], [true, EHLO]], s);
  });
});
