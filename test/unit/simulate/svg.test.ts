import { describe, expect, it } from 'vitest';
import { renderSimulationSvg, type SimulationSeries } from '../../../src/simulate/index.js';

function series(n: number): SimulationSeries {
  const ramp = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  return {
    startMs: Date.UTC(2026, 0, 1),
    tickSeconds: 15,
    load: ramp((i) => 2 + Math.sin(i / 10)),
    demand: Int32Array.from(ramp((i) => Math.ceil(2 + Math.sin(i / 10)))),
    supply: Int32Array.from(ramp(() => 3)),
    provisioned: Int32Array.from(ramp(() => 4)),
    queueDepth: ramp(() => 0),
    oldestWaitSeconds: ramp(() => 0),
  };
}

describe('simulation plot', () => {
  it('is a self-contained SVG with four lines and a legend', () => {
    const svg = renderSimulationSvg(series(100), { title: 'load <&> "x"', subtitle: 'τU 1 %' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain('load &lt;&amp;&gt; &quot;x&quot;');
    expect(svg).not.toMatch(/<script|href=|<image/);
    for (const name of ['demand d(t)', 'supply s(t) (ready)', 'provisioned (ready + starting)']) expect(svg).toContain(name);
  });

  it('draws long runs from bucket means, at most two points per pixel', () => {
    const svg = renderSimulationSvg(series(100_000), { title: 'long' });
    const points = /<polyline[^>]* points="([^"]*)"/.exec(svg)![1]!.split(' ');
    expect(points.length).toBeLessThanOrEqual(2 * 1200);
    expect(svg).toMatch(/means over \d+ ticks of 15s/);
    // The supply line is flat at 3: every point at the same height.
    const supply = [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)][2]![1]!.split(' ').map((p) => p.split(',')[1]);
    expect(new Set(supply).size).toBe(1);
  });
});
