import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/cli/flags.js';

describe('parseFlags', () => {
  const valued = ['--input', '--out'];
  const cases: readonly { name: string; args: string[]; expected: unknown }[] = [
    { name: 'space and equals forms', args: ['--input', 'a.csv', '--out=b.csv'], expected: { ok: true, value: { values: new Map([['--input', 'a.csv'], ['--out', 'b.csv']]), switches: new Set() } } },
    { name: 'a switch', args: ['--lstm', '--input', 'a.csv'], expected: { ok: true, value: { values: new Map([['--input', 'a.csv']]), switches: new Set(['--lstm']) } } },
    { name: 'help anywhere', args: ['--input', 'a.csv', '-h'], expected: { ok: true, value: 'help' } },
    { name: 'unknown argument', args: ['--inptu', 'a.csv'], expected: { ok: false, error: 'unknown argument "--inptu"' } },
    { name: 'missing value', args: ['--input'], expected: { ok: false, error: '--input needs a value' } },
    { name: 'a flag where a value should be', args: ['--input', '--out', 'b.csv'], expected: { ok: false, error: '--input needs a value' } },
    { name: 'given twice', args: ['--input', 'a', '--input=b'], expected: { ok: false, error: '--input is given twice' } },
    { name: 'an empty value is a value', args: ['--out='], expected: { ok: true, value: { values: new Map([['--out', '']]), switches: new Set() } } },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(parseFlags(tc.args, valued, ['--lstm'])).toEqual(tc.expected);
    });
  }
});
