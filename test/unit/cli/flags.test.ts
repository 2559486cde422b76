import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/cli/flags.js';

describe('parseFlags (node:util parseArgs, strict)', () => {
  const spec = { input: { type: 'string' }, out: { type: 'string' }, lstm: { type: 'boolean' }, file: { type: 'string', multiple: true } } as const;
  const cases: readonly { name: string; args: string[]; expected: unknown }[] = [
    { name: 'space and equals forms', args: ['--input', 'a.csv', '--out=b.csv'], expected: { ok: true, value: { input: 'a.csv', out: 'b.csv' } } },
    { name: 'a boolean flag', args: ['--lstm', '--input', 'a.csv'], expected: { ok: true, value: { lstm: true, input: 'a.csv' } } },
    { name: 'a repeatable flag', args: ['--file', 'a', '--file=b'], expected: { ok: true, value: { file: ['a', 'b'] } } },
    { name: 'help anywhere wins, even over a bad flag', args: ['--inptu', 'a.csv', '-h'], expected: { ok: true, value: 'help' } },
    { name: '--help after -- is not help', args: ['--input', 'a', '--', '--help'], expected: { ok: false, error: 'unexpected argument "--help": every argument is a --flag' } },
    { name: 'unknown flag', args: ['--inptu', 'a.csv'], expected: { ok: false, error: 'unknown option "--inptu"' } },
    { name: 'unknown short flag', args: ['-x'], expected: { ok: false, error: 'unknown option "-x"' } },
    { name: 'missing value', args: ['--input'], expected: { ok: false, error: '--input needs a value' } },
    { name: 'a flag where a value should be', args: ['--input', '--out', 'b.csv'], expected: { ok: false, error: '--input needs a value (write a value that starts with "-" as --input=-5)' } },
    { name: 'a negative value needs the = form', args: ['--input=-5'], expected: { ok: true, value: { input: '-5' } } },
    { name: 'a value for a boolean flag', args: ['--lstm=yes'], expected: { ok: false, error: '--lstm takes no value' } },
    { name: 'given twice', args: ['--input', 'a', '--input=b'], expected: { ok: false, error: '--input is given twice' } },
    { name: 'a positional argument', args: ['a.csv'], expected: { ok: false, error: 'unexpected argument "a.csv": every argument is a --flag' } },
    { name: 'an empty value is a value', args: ['--out='], expected: { ok: true, value: { out: '' } } },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const parsed = parseFlags(tc.args, spec);
      // parseArgs returns a null-prototype object; compare its plain copy.
      expect(parsed.ok && parsed.value !== 'help' ? { ok: true, value: { ...parsed.value } } : parsed).toEqual(tc.expected);
    });
  }
});
