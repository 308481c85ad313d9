import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options.js';

describe('mseg-controller flags', () => {
  it('has the documented defaults', () => {
    expect(parseOptions([])).toEqual({ dataDir: '/var/lib/mseg', apiPort: 10443, grpcPort: 18400, host: '0.0.0.0', noTls: false });
  });

  it('reads every flag', () => {
    expect(
      parseOptions(['--data-dir', '/tmp/x', '--api-port', '8443', '--grpc-port', '9000', '--host', '127.0.0.1', '--db', 'postgres://u@h/db', '--tls-cert', 'c.pem', '--tls-key', 'k.pem']),
    ).toEqual({ dataDir: '/tmp/x', apiPort: 8443, grpcPort: 9000, host: '127.0.0.1', noTls: false, db: 'postgres://u@h/db', tlsCert: 'c.pem', tlsKey: 'k.pem' });
    expect(parseOptions(['--no-tls'])?.noTls).toBe(true);
  });

  it('prints help and asks not to start', () => {
    let out = '';
    expect(parseOptions(['--help'], (t) => (out += t))).toBeNull();
    expect(out).toContain('--grpc-port');
  });

  it.each([
    [['--api-port', 'abc'], /--api-port.*must be a port number/],
    [['--api-port', '70000'], /--api-port.*must be a port number/],
    [['--grpc-port', '-1'], /--grpc-port/],
    [['--db', 'mysql://x'], /--db.*postgres/],
    [['--data-dir', ''], /--data-dir.*must not be empty/],
    [['--tls-cert', 'c.pem'], /--tls-cert needs --tls-key/],
    [['--tls-key', 'k.pem'], /--tls-key needs --tls-cert/],
    [['--no-tls', '--tls-cert', 'c', '--tls-key', 'k'], /--no-tls cannot be combined/],
    [['--api-port', '9000', '--grpc-port', '9000'], /--api-port and --grpc-port are both 9000/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--api-port'], /--api-port.*argument missing/],
    [['extra'], /too many arguments/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
