/** What the page is rendered with; every string is already HTML-escaped by the caller. */
export interface WebPageOptions {
  readonly version: string;
  /** How often the page refreshes itself: the reconcile interval, so each refresh can show a new cycle. */
  readonly refreshSeconds: number;
  /** The longest window the history holds (snapshot.historyRetention), in hours. */
  readonly maxHours: number;
  readonly defaultHours: number;
}

/**
 * The web view's HTML: a static skeleton that `/web/app.js` fills from the JSON API. Settings reach
 * the script as `data-` attributes, so the page needs no inline script (the CSP forbids one).
 */
export function renderWebPage(options: WebPageOptions): string {
  const windows = [1, 6, 24, 72, 168].filter((h) => h <= options.maxHours);
  if (!windows.includes(options.defaultHours)) windows.push(options.defaultHours);
  windows.sort((a, b) => a - b);
  const choices = windows.map((h) => `<option value="${h}"${h === options.defaultHours ? ' selected' : ''}>${h < 1 ? `${Math.round(h * 60)} min` : `${h} h`}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Foresight</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/web/app.css">
<script src="/web/app.js" defer></script>
</head>
<body data-refresh-seconds="${options.refreshSeconds}" data-ready="false">
<header class="top">
  <h1>Foresight <span class="version">${options.version}</span></h1>
  <div class="freshness" id="freshness" role="status" aria-live="polite">Waiting for the first answer…</div>
  <label class="window">Window <select id="hours">${choices}</select></label>
</header>
<main>
  <section aria-labelledby="queues-title">
    <h2 id="queues-title">Queues: observed depth and forecast</h2>
    <p class="hint">Solid: observed depth. Dashed: the forecast made earlier for that moment, with its p10–p90 band shaded. Dotted red: the overload threshold. Circles past "now": the latest forecasts. Red rings: anomalies.</p>
    <div id="queues" class="queues"></div>
  </section>
  <section aria-labelledby="decisions-title">
    <h2 id="decisions-title">Current recommendations</h2>
    <p class="hint">Direction compares the recommendation with the replicas observed now; the reasons explain the step from the previous recommendation. So "down" with <code>cooldown_scale_down</code> means the workload still runs more replicas than already recommended, and a further step down is held by the cooldown.</p>
    <div id="decisions"></div>
  </section>
  <section aria-labelledby="anomalies-title">
    <h2 id="anomalies-title">Anomalies in the latest cycle</h2>
    <div id="anomalies"></div>
  </section>
  <section aria-labelledby="accuracy-title">
    <h2 id="accuracy-title">Model accuracy</h2>
    <p class="hint">Backtest of each model on the recent history at the first horizon. Accuracy is 100 × max(0, 1 − Σ|y − ŷ| / Σ max(|y|, s)), s the series' seasonal-naive MAE: 100 × (1 − WAPE) on a busy series, never below 0 on a mostly empty queue (the measure of scaling_prediction_accuracy_percent); MASE below 1 beats the seasonal-naive forecast; coverage is the share of actual values inside the p10–p90 band (80 % is ideal).</p>
    <div id="accuracy"></div>
  </section>
</main>
</body>
</html>
`;
}
