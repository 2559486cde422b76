import { escapeXml, niceStep } from './svg.js';

/** One measured configuration in a frontier plot. */
export interface FrontierPlotPoint {
  /** Replica-minutes ÷ the oracle's. */
  readonly cost: number;
  /** Under-provisioned time τU, %. */
  readonly value: number;
  readonly label: string;
}

/** A set of points drawn in one style; `line` joins them in cost order. */
export interface FrontierPlotSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly FrontierPlotPoint[];
  readonly line?: 'solid' | 'dashed';
  readonly marker?: 'circle' | 'square' | 'diamond';
  /** The cost axis is sized to fit the series that set this; the other axis, every point in that range. */
  readonly fit?: boolean;
}

/** One panel: a start-up delay, say. */
export interface FrontierPanel {
  readonly title: string;
  readonly series: readonly FrontierPlotSeries[];
}

const panelWidth = 380;
const panelHeight = 320;
const margin = { left: 56, right: 16, top: 64, bottom: 44 };

function marker(kind: FrontierPlotSeries['marker'], x: number, y: number, color: string, title: string): string {
  const t = `<title>${escapeXml(title)}</title>`;
  const px = x.toFixed(1);
  const py = y.toFixed(1);
  if (kind === 'square') return `<rect x="${(x - 3.5).toFixed(1)}" y="${(y - 3.5).toFixed(1)}" width="7" height="7" fill="${color}">${t}</rect>`;
  if (kind === 'diamond') return `<polygon points="${px},${(y - 5).toFixed(1)} ${(x + 5).toFixed(1)},${py} ${px},${(y + 5).toFixed(1)} ${(x - 5).toFixed(1)},${py}" fill="${color}">${t}</polygon>`;
  return `<circle cx="${px}" cy="${py}" r="3.5" fill="${color}">${t}</circle>`;
}

/**
 * A self-contained SVG of cost/quality frontiers, one panel per start-up delay: cost (replica-minutes
 * ÷ the oracle's) across, under-provisioned time up, lower-left is better. Each series is drawn
 * as markers, joined by a line where it is a frontier or a knob's sweep; every marker has a
 * tooltip naming the configuration.
 */
export function renderFrontierSvg(title: string, panels: readonly FrontierPanel[]): string {
  const width = panels.length * panelWidth;
  const legendHeight = 22;
  const height = panelHeight + legendHeight;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  panels.forEach((panel, p) => {
    const left = p * panelWidth + margin.left;
    const plotWidth = panelWidth - margin.left - margin.right;
    const plotHeight = panelHeight - margin.top - margin.bottom;
    const fitted = panel.series.filter((s) => s.fit === true);
    const all = (fitted.length > 0 ? fitted : panel.series).flatMap((s) => s.points).filter((q) => Number.isFinite(q.cost) && Number.isFinite(q.value));
    const costMin = Math.min(1, ...all.map((q) => q.cost));
    const costMax = Math.max(costMin + 0.1, ...all.map((q) => q.cost)) * 1.1;
    const xStep = niceStep(costMax - costMin, 5);
    const xFrom = Math.floor(costMin / xStep) * xStep;
    const xTo = Math.ceil(costMax / xStep) * xStep;
    const inRange = panel.series.flatMap((s) => s.points).filter((q) => q.cost >= xFrom && q.cost <= xTo && Number.isFinite(q.value));
    const yMaxRaw = Math.max(1, ...inRange.map((q) => q.value)) * 1.1;
    const yStep = niceStep(yMaxRaw, 5);
    const yMax = Math.ceil(yMaxRaw / yStep) * yStep;
    // Points outside the fitted range are drawn on the edge (their tooltip says where they are).
    const x = (c: number): number => left + ((Math.min(xTo, Math.max(xFrom, c)) - xFrom) / (xTo - xFrom)) * plotWidth;
    const y = (v: number): number => margin.top + plotHeight - (Math.min(v, yMax) / yMax) * plotHeight;
    out.push(`<text x="${left}" y="${margin.top - 12}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
      const py = y(v).toFixed(1);
      out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${left - 5}" y="${py}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(6))}</text>`);
    }
    for (let c = xFrom; c <= xTo + 1e-9; c += xStep) {
      const px = x(c).toFixed(1);
      out.push(`<line x1="${px}" x2="${px}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${px}" y="${margin.top + plotHeight + 14}" text-anchor="middle">${Number(c.toPrecision(6))}</text>`);
    }
    out.push(`<rect x="${left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#444"/>`);
    out.push(`<text x="${left + plotWidth / 2}" y="${margin.top + plotHeight + 32}" text-anchor="middle">replica-minutes ÷ oracle's</text>`);
    const cy = margin.top + plotHeight / 2;
    out.push(`<text x="${left - 40}" y="${cy}" transform="rotate(-90 ${left - 40} ${cy})" text-anchor="middle">under-provisioned time τU %</text>`);
    for (const s of panel.series) {
      const pts = s.points
        .filter((q) => Number.isFinite(q.cost) && Number.isFinite(q.value))
        .slice()
        .sort((a, b) => a.cost - b.cost);
      if (s.line !== undefined && pts.length > 1) {
        const dash = s.line === 'dashed' ? ' stroke-dasharray="5 3"' : '';
        out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${dash} points="${pts.map((q) => `${x(q.cost).toFixed(1)},${y(q.value).toFixed(1)}`).join(' ')}"/>`);
      }
      if (s.marker !== undefined) for (const q of pts) out.push(marker(s.marker, x(q.cost), y(q.value), s.color, `${s.name}: ${q.label}`));
    }
  });
  // A series without a name shares the previous entry (a second marker of the same policy).
  const legend = (panels[0]?.series ?? []).filter((s) => s.name !== '');
  legend.forEach((s, i) => {
    const lx = 12 + i * 185;
    const ly = height - 10;
    if (s.line !== undefined) out.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.line === 'dashed' ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (s.marker !== undefined) out.push(marker(s.marker, lx + 10, ly, s.color, s.name));
    out.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
