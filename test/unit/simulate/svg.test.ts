import { describe, expect, it } from 'vitest';
import { renderFrontierSvg, renderSimulationSvg, type SimulationSeries } from '../../../src/simulate/index.js';

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

describe('frontier plot', () => {
  it('draws one panel per delay, a tooltip per configuration (escaped), and clips far points to the edge', () => {
    const svg = renderFrontierSvg(
      'trace <A>',
      [2, 5].map((delay) => ({
        title: `start-up ${delay} min`,
        series: [
          {
            name: 'HPA on arrival rate',
            color: '#1f77b4',
            marker: 'circle' as const,
            points: [
              { cost: 1.2, value: 5, label: 'hpa-rate 80 %' },
              { cost: 9, value: 0.1, label: 'far & cheap' },
            ],
          },
          {
            name: 'predictive-q',
            color: '#d62728',
            line: 'solid' as const,
            marker: 'circle' as const,
            fit: true,
            points: [
              { cost: 1.1, value: 4, label: 'q 0.8' },
              { cost: 1.3, value: 2, label: 'q 0.9' },
            ],
          },
        ],
      })),
    );
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="760"/);
    expect(svg).not.toMatch(/<script|href=/);
    expect(svg).toContain('trace &lt;A&gt;');
    expect(svg.match(/start-up \d min/g)).toEqual(['start-up 2 min', 'start-up 5 min']);
    expect(svg).toContain('<title>HPA on arrival rate: far &amp; cheap</title>');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    // The far point sits on the right edge of the first panel's plot area (x = 380 − 16).
    expect(svg).toMatch(/<circle cx="364.0" cy="[\d.]+" r="3.5" fill="#1f77b4"><title>HPA on arrival rate: far/);
  });
});
