import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The packages that cost tens of MB of resident memory once loaded (measured with the built
 * service: `@kubernetes/client-node` about 57 MB, TensorFlow.js about 30 MB). The service loads
 * them with `import()` only when a feature needs them (actuation, the LSTM), so the static import
 * graph of `foresight serve` must never reach them.
 */
const heavy = [/^@kubernetes\/client-node$/, /^@tensorflow\//];
const root = join(import.meta.dirname, '..', '..');
/** What `npm start` runs (`foresight serve`; main.ts imports each command lazily). */
const entry = join(root, 'src', 'cli', 'serve.ts');

/**
 * The modules a file loads when it is evaluated: static imports and re-exports, minus the ones
 * that are erased (`import type`, `export type`). With verbatimModuleSyntax an import whose names
 * are all `type` still loads its module, so it counts.
 */
function staticImports(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const match of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?\bfrom\s+)?'([^']+)'/gm)) {
    if (match[2] !== undefined) continue;
    if (match[1] === 'export' && match[3] === undefined) continue;
    found.push(match[4]!);
  }
  return found;
}

/** Every package the entry point loads statically, each with the file that imports it first. */
function loadedPackages(): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of staticImports(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (existsSync(target)) pending.push(target);
      } else if (!packages.has(specifier)) {
        packages.set(specifier, relative(root, file));
      }
    }
  }
  return packages;
}

describe('what the service loads at start', () => {
  it('the import scanner sees value imports and re-exports, and skips type-only ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import {\n  c,\n  type D,\n} from 'pkg-c';",
      "export * from './e.js';",
      "export type * from './f.js';",
      "export type { G } from './g.js';",
      "import './side-effect.js';",
      "// import { h } from './commented.js';",
      "const lazy = await import('./lazy.js');",
    ].join('\n');
    expect(staticImports(text)).toEqual(['./a.js', 'pkg-c', './e.js', './side-effect.js']);
  });

  it('reaches the service code and never the Kubernetes client or TensorFlow.js', () => {
    const packages = loadedPackages();
    expect(packages.has('express')).toBe(true);
    expect(packages.has('prom-client')).toBe(true);
    const loaded = [...packages].filter(([name]) => heavy.some((pattern) => pattern.test(name))).map(([name, by]) => `${name} (imported by ${by})`);
    expect(loaded).toEqual([]);
  });
});
