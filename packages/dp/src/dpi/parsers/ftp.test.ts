import { describe, expect, it } from 'vitest';
import ftp from './ftp.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(ftp);

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// ftp.pcap, 192.168.1.212:50694 -> 90.130.70.73:21.
const GREETING = hexOf('220 (vsFTPd 3.0.3)\r\n');
const USER = hexOf('USER anonymous\r\n');
const NEED_PASS = hexOf('331 Please specify the password.\r\n');

describe('ftp parser', () => {
  it('matches a 220 greeting followed by USER and keeps the banner', () => {
    expect(run(ftp, [[false, GREETING]])[0]).toBe(CONTINUE);
    const [v, n, f] = run(ftp, [[false, GREETING], [true, USER]]);
    expect([v, n]).toEqual([MATCH, 2]);
    expect(f.meta.banner).toBe('(vsFTPd 3.0.3)');
    expect(ftp.app).toBe(App.FTP);
  });

  it('waits through FEAT and a multiline greeting', () => {
    const steps: [boolean, string][] = [
      [false, hexOf('220-Welcome\r\n')],
      [false, hexOf('220 ready\r\n')],
      [true, hexOf('FEAT\r\n')],
      [false, hexOf('211-Features:\r\n EPSV\r\n211 End\r\n')],
      [true, hexOf('AUTH TLS\r\n')],
    ];
    expect(run(ftp, steps).slice(0, 2)).toEqual([MATCH, 5]);
  });

  it('matches from the client login on when the server answers it', () => {
    expect(run(ftp, [[true, USER], [false, NEED_PASS]])[0]).toBe(MATCH);
    expect(run(ftp, [[true, hexOf('AUTH TLS\r\n')], [false, hexOf('234 Proceed with negotiation.\r\n')]])[0]).toBe(MATCH);
    expect(run(ftp, [[true, USER], [false, hexOf('250 ok\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('leaves SMTP and FTP data alone', () => {
    expect(run(ftp, [[false, hexOf('220 mx ESMTP\r\n')], [true, hexOf('EHLO me\r\n')]])[0]).toBe(NO_MATCH);
    // ftp.pcap, the FTP-DATA connection: a directory listing.
    expect(run(ftp, [[false, hexOf('-rw-r--r--    1 0        0        1048576 Feb 19  2016 1MB.zip\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and random splits', () => {
    expect(refusals(ftp)).toBe(0);
    for (let s = 1; s < 30; s++) randomSplits(ftp, [[false, GREETING], [true, USER], [false, NEED_PASS]], s);
  });
});
