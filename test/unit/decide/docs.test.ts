import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contextVariables, reasonCodes } from '../../../src/decide/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/scaling-decisions.md', import.meta.url)), 'utf8');

describe('docs/scaling-decisions.md', () => {
  it('lists every context variable in its table', () => {
    const missing = contextVariables.filter((v) => !doc.includes(`| \`${v.name}\` |`)).map((v) => v.name);
    expect(missing).toEqual([]);
  });

  it('explains every reason code', () => {
    const missing = reasonCodes.filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
