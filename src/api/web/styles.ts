/**
 * The web view's stylesheet, served as `/web/app.css`: system fonts, a light and a dark scheme,
 * and the chart colours (observed blue, forecast purple, threshold red) the dashboard also uses.
 */
export const webStyles = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --text: #1d2330; --muted: #5d6778; --line: #d9dde4;
  --actual: #1f6feb; --forecast: #8250df; --band: rgba(130, 80, 223, 0.16); --threshold: #cf222e;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --text: #e6edf3; --muted: #8d96a0; --line: #30363d;
    --actual: #58a6ff; --forecast: #bc8cff; --band: rgba(188, 140, 255, 0.18); --threshold: #ff7b72;
    --ok: #3fb950; --warn: #d29922; --bad: #f85149;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
.top h1 { margin: 0; font-size: 20px; }
.version { color: var(--muted); font-size: 13px; font-weight: normal; }
.freshness { flex: 1; color: var(--muted); }
.window select { margin-left: 6px; }
main { padding: 8px 24px 32px; max-width: 1600px; margin: 0 auto; }
h2 { font-size: 16px; margin: 24px 0 4px; }
.hint { color: var(--muted); margin: 0 0 12px; max-width: 70em; }
.queues { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.queue { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.queue header { display: flex; align-items: baseline; gap: 10px; }
.queue h3 { margin: 0; font-size: 15px; }
.resource { color: var(--muted); font-size: 12px; }
.queue header .badge { margin-left: auto; }
.stats { display: grid; grid-template-columns: repeat(4, auto); gap: 0 14px; margin: 8px 0; font-size: 12px; justify-content: start; }
.stats dt { color: var(--muted); grid-row: 1; }
.stats dd { margin: 0; grid-row: 2; font-variant-numeric: tabular-nums; font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); }
.error { color: var(--bad); }
.chart { width: 100%; height: auto; display: block; }
.chart .grid line { stroke: var(--line); stroke-width: 1; }
.chart .grid text, .chart .now-label, .chart .empty { fill: var(--muted); font-size: 11px; }
.chart .actual { fill: none; stroke: var(--actual); stroke-width: 2; stroke-linejoin: round; }
.chart .forecast { fill: none; stroke: var(--forecast); stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart .band { fill: var(--band); stroke: none; }
.chart .threshold { stroke: var(--threshold); stroke-width: 1.5; stroke-dasharray: 2 4; }
.chart .threshold-label { fill: var(--threshold); font-size: 11px; }
.chart .now { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 3 3; }
.chart .latest line { stroke: var(--forecast); stroke-width: 2; }
.chart .latest circle { fill: var(--forecast); }
.chart .latest.over circle { fill: var(--threshold); }
.chart .anomaly { fill: none; stroke: var(--warn); stroke-width: 2; }
.chart .anomaly.critical { stroke: var(--bad); }
table { border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; min-width: 50%; }
th, td { padding: 6px 12px; text-align: left; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.reasons code { display: inline-block; margin: 0 4px 2px 0; padding: 0 6px; border-radius: 4px; background: var(--bg); border: 1px solid var(--line); font-size: 12px; }
.empty-note { color: var(--muted); }
`;
