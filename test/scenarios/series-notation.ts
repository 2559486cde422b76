/**
 * promtool's expanding series notation (the `values:` of `promtool test rules`), so scenario files
 * read like Prometheus rule tests:
 *
 * - `a+bxn` → a, a+b, ..., a+n·b (n + 1 values); `a-bxn` counts down; `axn` → a repeated n + 1 times
 * - `_` → a missing sample; `_xn` → n missing samples; `stale` → missing
 * - plain numbers stand for themselves
 */
export function expandSeries(text: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const term of text.trim().split(/\s+/)) {
    if (term === '') continue;
    if (term === '_' || term === 'stale') {
      out.push(undefined);
      continue;
    }
    const missing = /^_x(\d+)$/.exec(term);
    if (missing !== null) {
      for (let i = 0; i < Number(missing[1]); i++) out.push(undefined);
      continue;
    }
    const expanding = /^(-?\d+(?:\.\d+)?)(?:([+-])(\d+(?:\.\d+)?))?x(\d+)$/.exec(term);
    if (expanding !== null) {
      const start = Number(expanding[1]);
      const step = expanding[2] === undefined ? 0 : (expanding[2] === '-' ? -1 : 1) * Number(expanding[3]);
      for (let i = 0; i <= Number(expanding[4]); i++) out.push(start + i * step);
      continue;
    }
    if (/^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(term)) {
      out.push(Number(term));
      continue;
    }
    throw new Error(`not promtool series notation: "${term}"`);
  }
  return out;
}
