import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The pure modules: decisions, anomaly scores and forecasts depend only on their inputs. */
const pureRoots = ['src/forecast', 'src/anomaly', 'src/decide'];
/** TF.js seeds its own RNG; the LSTM folder may time its training for progress reports. */
const exempt = ['src/forecast/lstm/'];
const forbidden: readonly [RegExp, string][] = [
  [/\bDate\.now\(/, 'Date.now()'],
  [/\bnew Date\(\)/, 'new Date()'],
  [/\bsetTimeout\(|\bsetInterval\(/, 'timers'],
  [/\bMath\.random\(/, 'Math.random()'],
  [/\bconsole\./, 'console'],
  [/\bprocess\.env\b/, 'process.env'],
  [/from 'node:fs'|from 'fs'/, 'file I/O'],
  [/\beval\(|\bnew Function\(/, 'eval / new Function'],
];

function files(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('pure modules', () => {
  const root = join(import.meta.dirname, '..', '..');
  const sources = pureRoots.flatMap((dir) => files(join(root, dir))).map((path) => relative(root, path));

  it('exist', () => {
    expect(sources.length).toBeGreaterThan(5);
  });

  it('read no clock, timer, randomness, console, environment or file, and never eval', () => {
    const findings: string[] = [];
    for (const file of sources) {
      if (exempt.some((prefix) => file.startsWith(prefix))) continue;
      const lines = readFileSync(join(root, file), 'utf8').split('\n');
      lines.forEach((line, index) => {
        const code = line.replace(/\/\/.*$/, '');
        for (const [pattern, what] of forbidden) if (pattern.test(code)) findings.push(`${file}:${index + 1}: ${what}`);
      });
    }
    expect(findings).toEqual([]);
  });
});
