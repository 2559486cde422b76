import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricCatalog } from '../../src/publish/index.js';

const catalogDoc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const definitions = Object.values(metricCatalog);

describe('metric catalog', () => {
  it('has unique names that follow the Prometheus naming rules', () => {
    const names = definitions.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const d of definitions) {
      expect(d.name).toMatch(/^[a-z][a-z0-9_]*$/);
      // Counters end in _total; nothing else does.
      expect(d.name.endsWith('_total')).toBe(d.type === 'counter');
      for (const label of d.labelNames) expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(d.help).toMatch(/\.$/);
    }
  });

  it('is listed in docs/metrics.md with the same type and labels', () => {
    for (const d of definitions) {
      const row = catalogDoc.split('\n').find((line) => line.startsWith(`| \`${d.name}\` |`));
      expect(row, `docs/metrics.md has no row for ${d.name}`).toBeDefined();
      const [, , type, labels] = row!.split('|').map((cell) => cell.trim());
      expect(type).toBe(d.type);
      const listed = labels === '—' ? [] : labels!.split(',').map((l) => l.trim().replace(/`/g, ''));
      expect(listed).toEqual([...d.labelNames]);
    }
  });
});
