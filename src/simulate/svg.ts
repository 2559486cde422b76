import type { SimulationSeries } from './simulate.js';

/** What the plot says besides the series. */
export interface PlotLabels {
  readonly title: string;
  /** One line under the title (the headline metrics). */
  readonly subtitle?: string;
}

const width = 1200;
const height = 440;
const margin = { left: 64, right: 24, top: 78, bottom: 52 };
/** The most points a line gets: about two per horizontal pixel. */
const maxPoints = 2 * (width - margin.left - margin.right);

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Bucket means, so that a two-month trace at 15 s still draws as a readable line. */
function downsample(values: ArrayLike<number>, buckets: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(buckets);
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * n) / buckets));
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i]!;
    out[b] = sum / (to - from);
  }
  return out;
}

/** A "nice" tick step (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  return (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
}

function formatTime(ms: number, spanMs: number): string {
  // biome-ignore lint/style/noRestrictedGlobals: formats a time it is given; reads no clock.
  const iso = new Date(ms).toISOString();
  return spanMs > 3 * 86_400_000 ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/**
 * A self-contained SVG (no scripts, no external resources) of a run: the load in replica units
 * (arrival rate / capacity), the demand d_t, the ready supply s_t and the provisioned replicas,
 * over time. Long runs are drawn from bucket means.
 */
export function renderSimulationSvg(series: SimulationSeries, labels: PlotLabels): string {
  const n = series.demand.length;
  const buckets = Math.max(1, Math.min(n, maxPoints));
  const lines = [
    { name: 'load (arrival rate / capacity)', values: downsample(series.load, buckets), color: '#9aa5b1', dash: '', widthPx: 1 },
    { name: 'demand d(t)', values: downsample(series.demand, buckets), color: '#1f77b4', dash: '', widthPx: 1.5 },
    { name: 'supply s(t) (ready)', values: downsample(series.supply, buckets), color: '#2ca02c', dash: '', widthPx: 1.5 },
    { name: 'provisioned (ready + starting)', values: downsample(series.provisioned, buckets), color: '#ff7f0e', dash: '4 3', widthPx: 1 },
  ];
  let yMax = 1;
  for (const line of lines) for (const v of line.values) if (Number.isFinite(v)) yMax = Math.max(yMax, v);
  const yStep = niceStep(yMax, 6);
  yMax = Math.ceil(yMax / yStep) * yStep;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const x = (b: number): number => margin.left + (buckets === 1 ? 0 : (b / (buckets - 1)) * plotWidth);
  const y = (v: number): number => margin.top + plotHeight - (Math.min(v, yMax) / yMax) * plotHeight;
  const spanMs = n * series.tickSeconds * 1000;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${margin.left}" y="22" font-size="16" font-weight="bold">${escapeXml(labels.title)}</text>`);
  if (labels.subtitle !== undefined) out.push(`<text x="${margin.left}" y="42" fill="#444">${escapeXml(labels.subtitle)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    const py = y(v).toFixed(1);
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(6))}</text>`);
  }
  const xTicks = 6;
  for (let i = 0; i <= xTicks; i++) {
    const px = margin.left + (i / xTicks) * plotWidth;
    const ms = series.startMs + (i / xTicks) * spanMs;
    out.push(`<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#444"/>`);
    const anchor = i === 0 ? 'start' : i === xTicks ? 'end' : 'middle';
    out.push(`<text x="${px.toFixed(1)}" y="${margin.top + plotHeight + 18}" text-anchor="${anchor}">${escapeXml(formatTime(ms, spanMs))}</text>`);
  }
  out.push(`<text x="16" y="${margin.top + plotHeight / 2}" transform="rotate(-90 16 ${margin.top + plotHeight / 2})" text-anchor="middle">replicas</text>`);
  out.push(
    `<text x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">time (UTC)${buckets < n ? `, means over ${Math.round(n / buckets)} ticks of ${series.tickSeconds}s` : ''}</text>`,
  );
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#444"/>`);
  for (const line of lines) {
    const points: string[] = [];
    for (let b = 0; b < buckets; b++) points.push(`${x(b).toFixed(1)},${y(line.values[b]!).toFixed(1)}`);
    const dash = line.dash === '' ? '' : ` stroke-dasharray="${line.dash}"`;
    out.push(`<polyline fill="none" stroke="${line.color}" stroke-width="${line.widthPx}"${dash} points="${points.join(' ')}"><title>${escapeXml(line.name)}</title></polyline>`);
  }
  lines.forEach((line, i) => {
    const lx = margin.left + 8 + i * 260;
    const ly = margin.top - 14;
    const dash = line.dash === '' ? '' : ` stroke-dasharray="${line.dash}"`;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${line.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${escapeXml(line.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
