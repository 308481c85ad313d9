import { describe, expect, it } from 'vitest';
import { CommandError, ExecRunner } from './command.js';

describe('ExecRunner', () => {
  it('passes input and returns stdout', async () => {
    expect(await new ExecRunner().run(['cat'], { input: 'table inet mseg {}\n' })).toBe('table inet mseg {}\n');
  });

  it('a command that exits without reading its input is a CommandError, not an EPIPE crash', async () => {
    const err = await new ExecRunner().run(['sh', '-c', 'exit 3'], { input: 'x'.repeat(4 << 20) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(3);
  });
});
