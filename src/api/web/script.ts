/**
 * The web view's browser script, served as `/web/app.js`. Plain ES2020 for the browser, kept in a
 * string so that it ships inside the compiled service (no bundler, no CDN, no copy step).
 *
 * It reads `/scaling/series`, `/scaling/recommendations` and `/scaling/ml/accuracy`, draws one SVG
 * chart per queue by hand, fills the tables, and refreshes every reconcile interval. Every value
 * reaches the page through `textContent` or an SVG attribute, never as markup. It avoids template
 * literals so that it can live in this TypeScript template string unescaped.
 */
export const webScript = `'use strict';
(function () {
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var body = document.body;
  var refreshSeconds = Math.min(60, Math.max(5, Number(body.dataset.refreshSeconds) || 15));
  var timer = 0;
  var numberFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  var compactFormat = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, String(value));
    });
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = String(attrs[key]);
      else node.setAttribute(key, String(attrs[key]));
    });
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }

  function fmt(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '–';
    return Math.abs(value) >= 10000 ? compactFormat.format(value) : numberFormat.format(value);
  }

  function fixed2(value) {
    return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(2);
  }

  function pct(ratio) {
    return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : numberFormat.format(ratio * 100) + ' %';
  }

  function clock(ms) {
    var d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (response) {
      return response.json().catch(function () { return undefined; }).then(function (json) {
        if (!response.ok) throw new Error((json && json.message) || (path + ': HTTP ' + response.status));
        return json;
      });
    });
  }

  function niceStep(range, count) {
    var raw = range / count;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / magnitude;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  }

  /** A path through points, broken where a value is missing. */
  function linePath(points, sx, sy) {
    var d = '';
    var pen = false;
    points.forEach(function (p) {
      if (p.value === null || !Number.isFinite(p.value)) { pen = false; return; }
      d += (pen ? 'L' : 'M') + sx(p.t).toFixed(1) + ',' + sy(p.value).toFixed(1);
      pen = true;
    });
    return d;
  }

  function drawChart(q, nowMs) {
    var W = 720, H = 250, left = 58, right = 14, top = 14, bottom = 30;
    var primary = q.forecasts[0];
    var past = primary ? primary.points : [];
    var actual = q.actual.map(function (p) { return { t: p.timestampMs, value: p.value }; });
    var forecastLine = past.map(function (p) { return { t: p.targetMs, value: p.value }; });
    var root = svg('svg', {
      viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'aria-label': 'Queue ' + q.queue + ': observed depth, forecast with its band, and threshold',
      'data-queue': q.queue,
      'data-actual-points': actual.filter(function (p) { return p.value !== null; }).length,
      'data-forecast-points': past.length,
      'data-anomalies': q.anomalies.length,
    });
    var times = actual.map(function (p) { return p.t; })
      .concat(past.map(function (p) { return p.targetMs; }), q.latest.map(function (f) { return f.targetMs; }), [nowMs]);
    var x0 = Math.min.apply(null, times);
    var x1 = Math.max.apply(null, times);
    if (x1 - x0 < 60000) x1 = x0 + 60000;
    var values = [1];
    actual.forEach(function (p) { if (p.value !== null) values.push(p.value); });
    past.forEach(function (p) { values.push(p.p90, p.value); });
    q.latest.forEach(function (f) { values.push(f.p90); });
    q.anomalies.forEach(function (a) { values.push(a.value); });
    var dataMax = Math.max.apply(null, values.filter(Number.isFinite));
    // The threshold joins the scale when it is near the data; far above, it is named instead, so
    // that a quiet queue is not drawn as a flat line at the bottom.
    var thresholdOnScale = q.threshold <= dataMax * 2;
    var yMax = (thresholdOnScale ? Math.max(dataMax, q.threshold) : dataMax) * 1.08;
    var step = niceStep(yMax, 4);
    yMax = Math.ceil(yMax / step) * step;
    var sx = function (t) { return left + ((t - x0) / (x1 - x0)) * (W - left - right); };
    var sy = function (v) { return H - bottom - (v / yMax) * (H - top - bottom); };

    var grid = svg('g', { class: 'grid' });
    for (var v = 0; v <= yMax + step / 2; v += step) {
      grid.append(svg('line', { x1: left, x2: W - right, y1: sy(v), y2: sy(v) }));
      grid.append(svg('text', { x: left - 6, y: sy(v) + 4, 'text-anchor': 'end', text: fmt(v) }));
    }
    // Time ticks on whole clock steps, about six across the chart.
    var minutes = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].find(function (m) { return m * 60000 >= (x1 - x0) / 7; }) || 1440;
    var tStep = minutes * 60000;
    for (var t = Math.ceil(x0 / tStep) * tStep; t <= x1; t += tStep) {
      grid.append(svg('text', { x: sx(t), y: H - 10, 'text-anchor': 'middle', text: clock(t) }));
    }
    root.append(grid);

    if (past.length > 1) {
      var upper = past.map(function (p) { return sx(p.targetMs).toFixed(1) + ',' + sy(p.p90).toFixed(1); });
      var lower = past.slice().reverse().map(function (p) { return sx(p.targetMs).toFixed(1) + ',' + sy(p.p10).toFixed(1); });
      root.append(svg('path', { class: 'band', d: 'M' + upper.join('L') + 'L' + lower.join('L') + 'Z' }));
      root.append(svg('path', { class: 'forecast', d: linePath(forecastLine, sx, sy) }));
    }
    root.append(svg('path', { class: 'actual', d: linePath(actual, sx, sy) }));

    if (thresholdOnScale) {
      root.append(svg('line', { class: 'threshold', x1: left, x2: W - right, y1: sy(q.threshold), y2: sy(q.threshold) }));
      root.append(svg('text', { class: 'threshold-label', x: W - right - 4, y: sy(q.threshold) - 5, 'text-anchor': 'end', text: 'threshold ' + fmt(q.threshold) }));
    } else {
      root.append(svg('text', { class: 'threshold-label', x: left + 6, y: top + 10, text: 'threshold ' + fmt(q.threshold) + ' (above the scale)' }));
    }
    root.append(svg('line', { class: 'now', x1: sx(nowMs), x2: sx(nowMs), y1: top, y2: H - bottom }));
    root.append(svg('text', { class: 'now-label', x: sx(nowMs) - 4, y: H - bottom - 6, 'text-anchor': 'end', text: 'now' }));

    q.latest.forEach(function (f) {
      var x = sx(f.targetMs);
      var mark = svg('g', { class: 'latest' + (f.value > q.threshold ? ' over' : '') }, [
        svg('line', { x1: x, x2: x, y1: sy(f.p10), y2: sy(f.p90) }),
        svg('circle', { cx: x, cy: sy(f.value), r: 4 }),
        svg('title', { text: '+' + f.horizon + ': ' + fmt(f.value) + ' (p10 ' + fmt(f.p10) + ', p90 ' + fmt(f.p90) + ') by ' + f.model }),
      ]);
      root.append(mark);
    });
    q.anomalies.forEach(function (a) {
      root.append(svg('circle', { class: 'anomaly ' + a.severity, cx: sx(a.timestampMs), cy: sy(a.value), r: 6 }, [
        svg('title', { text: a.severity + ' anomaly in ' + a.metric + ' at ' + clock(a.timestampMs) + ': ' + fmt(a.value) + (a.expected === undefined ? '' : ' (expected ' + fmt(a.expected) + ')') + ', score ' + fixed2(a.score) }),
      ]));
    });
    if (actual.length === 0 && past.length === 0) {
      root.append(svg('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle', text: 'No data in this window yet' }));
    }
    return root;
  }

  function queueCard(q, nowMs) {
    var first = q.latest[0];
    var badge = q.predictedOverload
      ? el('span', { class: 'badge bad', text: 'predicted overload' })
      : q.overThresholdWithinHorizon
        ? el('span', { class: 'badge warn', text: 'p90 above threshold' })
        : el('span', { class: 'badge ok', text: 'within threshold' });
    var stats = el('dl', { class: 'stats' }, [
      el('dt', { text: 'depth now' }), el('dd', { text: fmt(q.current.depth) }),
      el('dt', { text: first ? 'forecast +' + first.horizon : 'forecast' }),
      el('dd', { text: first ? fmt(first.value) + ' (' + fmt(first.p10) + '–' + fmt(first.p90) + ')' : '–' }),
      el('dt', { text: 'threshold' }), el('dd', { text: fmt(q.threshold) }),
      el('dt', { text: 'model' }), el('dd', { text: first ? first.model + (first.fallbackReason ? ' (fallback)' : '') : '–', title: first && first.fallbackReason ? first.fallbackReason : null }),
    ]);
    return el('article', { class: 'queue', 'data-queue': q.queue }, [
      el('header', {}, [el('h3', { text: q.queue }), el('span', { class: 'resource', text: q.resource }), badge]),
      stats,
      drawChart(q, nowMs),
    ]);
  }

  function table(headers, rows, emptyText) {
    if (rows.length === 0) return el('p', { class: 'empty-note', text: emptyText });
    return el('table', {}, [
      el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', {}, rows.map(function (cells) {
        return el('tr', {}, cells.map(function (c) { return c instanceof Node ? el('td', {}, [c]) : el('td', { text: c }); }));
      })),
    ]);
  }

  function renderSeries(data) {
    var box = document.getElementById('queues');
    box.replaceChildren.apply(box, data.queues.map(function (q) { return queueCard(q, data.nowMs); }));
    var s = data.snapshot;
    var parts = ['cycle ' + s.cycle, 'snapshot ' + Math.round(s.ageSeconds) + ' s old', 'refreshing every ' + refreshSeconds + ' s'];
    var freshness = document.getElementById('freshness');
    var children = [
      el('span', { class: 'badge ' + (s.stale ? 'bad' : 'ok'), text: s.stale ? 'stale' : 'fresh' }),
      document.createTextNode(' ' + parts.join(' · ')),
    ];
    if (s.lastError) children.push(el('span', { class: 'error', text: ' · last error: ' + s.lastError }));
    freshness.replaceChildren.apply(freshness, children);
  }

  function renderRecommendations(data) {
    var decisions = document.getElementById('decisions');
    var arrows = { up: '↑ up', down: '↓ down', hold: '= hold' };
    decisions.replaceChildren(table(
      ['Resource', 'Current', 'Recommended', 'Direction', 'Confidence', 'Reasons', 'Rule'],
      data.decisions.map(function (d) {
        var reasons = el('span', { class: 'reasons' }, d.reasons.map(function (r) { return el('code', { text: r }); }));
        return [d.resource, fmt(d.currentReplicas), fmt(d.recommendedReplicas), (arrows[d.direction] || d.direction) + (d.emergency ? ' (emergency)' : ''), pct(d.confidence), reasons, d.rule || '–'];
      }),
      data.scalingEnabled ? 'No recommendations yet: the decision engine has not published any.' : 'Scaling is disabled (scaling.enabled: false).',
    ));
    var anomalies = document.getElementById('anomalies');
    anomalies.replaceChildren(table(
      ['Metric', 'Queue', 'Severity', 'Score', 'Value', 'Expected', 'Confidence', 'Detector'],
      data.anomalies.map(function (a) {
        return [a.metric, a.queue || '–', el('span', { class: 'badge ' + (a.severity === 'critical' ? 'bad' : 'warn'), text: a.severity }), fixed2(a.score), fmt(a.value), fmt(a.expected), pct(a.confidence), a.detector];
      }),
      data.anomalyDetectionEnabled ? 'No anomalies in the latest cycle.' : 'Anomaly detection is disabled (scaling.anomalyDetectionEnabled: false).',
    ));
  }

  function renderAccuracy(data) {
    var box = document.getElementById('accuracy');
    box.replaceChildren(table(
      ['Series', 'Serving model', 'Accuracy', 'MASE', 'Coverage', 'Best model (MASE)', 'Origins'],
      data.series.map(function (s) {
        var serving = s.models.find(function (m) { return m.model === s.servingModel; }) || {};
        var best = s.models[0] || {};
        return [s.series, (s.servingModel || '–') + (s.fallbackReason ? ' (fallback)' : ''), serving.accuracyPercent === undefined || serving.accuracyPercent === null ? '–' : fmt(serving.accuracyPercent) + ' %', fixed2(serving.mase), pct(serving.coverage), best.model ? best.model + ' (' + fixed2(best.mase) + ')' : '–', fmt(serving.points)];
      }),
      'No accuracy yet: the models have not been backtested.',
    ));
  }

  function showError(id, error) {
    var box = document.getElementById(id);
    box.replaceChildren(el('p', { class: 'error', text: error.message }));
  }

  function refresh() {
    clearTimeout(timer);
    var hours = document.getElementById('hours').value;
    return Promise.allSettled([
      getJson('/scaling/series?hours=' + encodeURIComponent(hours)),
      getJson('/scaling/recommendations'),
      getJson('/scaling/ml/accuracy'),
    ]).then(function (results) {
      if (results[0].status === 'fulfilled') renderSeries(results[0].value);
      else document.getElementById('freshness').replaceChildren(el('span', { class: 'error', text: results[0].reason.message }));
      if (results[1].status === 'fulfilled') renderRecommendations(results[1].value);
      else { showError('decisions', results[1].reason); showError('anomalies', results[1].reason); }
      if (results[2].status === 'fulfilled') renderAccuracy(results[2].value);
      else showError('accuracy', results[2].reason);
      body.dataset.ready = String(results.every(function (r) { return r.status === 'fulfilled'; }));
      body.dataset.refreshes = String(Number(body.dataset.refreshes || 0) + 1);
    }).finally(function () {
      if (!document.hidden) timer = setTimeout(refresh, refreshSeconds * 1000);
    });
  }

  document.getElementById('hours').addEventListener('change', refresh);
  // A hidden tab does not poll; it catches up as soon as it is shown again.
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) clearTimeout(timer);
    else refresh();
  });
  refresh();
})();
`;
