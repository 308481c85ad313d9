import { describe, expect, it } from 'vitest';
import { UsageError, controllerUrl, parseOptions } from './options.js';

function usage(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseOptions(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseOptions', () => {
  it('takes the controller and token, with defaults for the sockets and data dir', () => {
    expect(parseOptions(['--controller', 'ctl.local:18400', '--token', 'T'], {})).toEqual({
      controllerUrl: 'http://ctl.local:18400',
      joinToken: 'T',
      dockerSocket: '/var/run/docker.sock',
      dpSocket: '/run/mseg/dp.sock',
      dataDir: '/var/lib/mseg-agent',
      captureNetns: 'mseg',
    });
  });

  it('takes every flag and the token from the environment', () => {
    const argv = ['--controller', '[fd00::1]:18400', '--docker-socket', '/d.sock', '--dp-socket', '/dp.sock', '--data-dir', '/data', '--capture-netns', 'mseg-t1', '--only-label', 'mseg.test=run=1'];
    expect(parseOptions(argv, { MSEG_JOIN_TOKEN: 'E' })).toEqual({
      controllerUrl: 'http://[fd00::1]:18400',
      joinToken: 'E',
      dockerSocket: '/d.sock',
      dpSocket: '/dp.sock',
      dataDir: '/data',
      captureNetns: 'mseg-t1',
      onlyLabel: { key: 'mseg.test', value: 'run=1' },
    });
  });

  it.each([
    [['--token', 'T'], /--controller/],
    [['--controller', 'ctl.local', '--token', 'T'], /^--controller: expected HOST:PORT/],
    [['--controller', 'ftp://x:1', '--token', 'T'], /^--controller:/],
    [['--controller', 'ctl:18400'], /^--token:/],
    [['--controller', 'ctl:18400', '--token', 'T', '--data-dir', 'rel/dir'], /^--data-dir: must be an absolute path/],
    [['--controller', 'ctl:18400', '--token', 'T', '--dp-socket', 'dp.sock'], /^--dp-socket:/],
    [['--controller', 'ctl:18400', '--token', 'T', '--bogus'], /unknown option '--bogus'/],
    [['--controller', 'ctl:18400', '--token', 'T', '--capture-netns', '../x'], /^--capture-netns:/],
    [['--controller', 'ctl:18400', '--token', 'T', '--only-label', 'mseg.test'], /^--only-label: expected KEY=VALUE/],
    [['--controller', 'ctl:18400', '--token', 'T', '--only-label', '=x'], /^--only-label: expected KEY=VALUE/],
    [['--controller'], /--controller/],
  ])('%j → a usage error naming the flag', (argv, message) => {
    expect(usage(argv)).toMatch(message);
  });
});

describe('controllerUrl', () => {
  it.each([
    ['10.0.0.5:18400', 'http://10.0.0.5:18400'],
    ['http://ctl:18400', 'http://ctl:18400'],
    ['https://ctl:18400', null],
    ['ctl', null],
    ['ctl:18400/path', null],
    ['ctl:99999', null],
  ])('%s → %s', (text, url) => {
    expect(controllerUrl(text)).toBe(url);
  });
});
