import { describe, expect, it } from 'vitest';
import { prefix } from '../../../src/core/index.js';
import { backtest, createAllForecasters, createForecaster, evaluateModels, fitServingModel, fitWithFallback, selectByValidation, withFallback } from '../../../src/forecast/index.js';
import type { ForecastSpec } from '../../../src/forecast/index.js';
import { dailySine, normals, seasonSteps, seriesOf, stepSeconds } from './series-helpers.js';

const spec: ForecastSpec = { stepSeconds, seasonSteps, horizonSteps: 3 };

describe('backtest', () => {
  const noise = normals(1);
  const series = seriesOf(6 * seasonSteps, (i) => dailySine(i) + noise());
  const trainEndIndex = 4 * seasonSteps - 1;

  it('fits on the training part and scores every later origin with a target', () => {
    const result = backtest(createForecaster('seasonal_naive'), series, { spec, trainEndIndex });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { accuracy, forecasts } = result.value;
    // Origins trainEnd+1 .. n−1−h.
    expect(accuracy.count).toBe(series.values.length - 1 - spec.horizonSteps - trainEndIndex);
    expect(accuracy.maseScale.kind).toBe('seasonal');
    expect(forecasts.value.length).toBe(series.values.length);
    expect(accuracy.coverage80).toBeGreaterThan(0.7);
  });

  it('is deterministic', () => {
    const a = backtest(createForecaster('holt_winters'), series, { spec, trainEndIndex });
    const b = backtest(createForecaster('holt_winters'), series, { spec, trainEndIndex });
    expect(a).toEqual(b);
  });

  it('never looks ahead: removing the last points leaves earlier forecasts unchanged', () => {
    for (const forecaster of createAllForecasters()) {
      const full = backtest(forecaster, series, { spec, trainEndIndex });
      const cut = series.values.length - 100;
      const short = backtest(forecaster, prefix(series, cut), { spec, trainEndIndex });
      if (!full.ok || !short.ok) throw new Error('backtest failed');
      expect(short.value.forecasts.value, forecaster.name).toEqual(full.value.forecasts.value.subarray(0, cut));
    }
  });

  it('scores a model that cannot be fitted as its naive fallback, and says why', () => {
    const result = backtest(createForecaster('holt_winters'), series, { spec, trainEndIndex: seasonSteps });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.fitFailure?.reason).toBe('insufficient_history');
    const naive = backtest(createForecaster('naive'), series, { spec, trainEndIndex: seasonSteps });
    if (!naive.ok) throw new Error('naive failed');
    expect(result.value.accuracy.mae).toBe(naive.value.accuracy.mae);
  });

  it('fills the origins a model cannot forecast yet with naive', () => {
    const result = backtest(createForecaster('holt_winters'), series, { spec, trainEndIndex });
    if (!result.ok) throw new Error('failed');
    // Holt-Winters needs two seasons; naive answers before, so every origin has a forecast.
    expect(result.value.forecasts.value.every(Number.isFinite)).toBe(true);
    expect(result.value.fallbackScoredOrigins).toBe(0);
  });
});

describe('selectByValidation', () => {
  it('picks the seasonal model on a seasonal series and naive on a random walk', () => {
    const noise = normals(2);
    const seasonal = seriesOf(6 * seasonSteps, (i) => dailySine(i) + 0.5 * noise());
    const picked = selectByValidation(createAllForecasters(), seasonal, spec);
    expect(picked.ok && ['seasonal_naive', 'seasonal_mean', 'holt_winters'].includes(picked.value.best)).toBe(true);

    let level = 100;
    const walk = seriesOf(6 * seasonSteps, () => (level += 5 * noise()));
    const pickedWalk = selectByValidation(createAllForecasters(), walk, spec);
    expect(pickedWalk.ok && ['naive', 'holt_winters', 'linear_trend'].includes(pickedWalk.value.best)).toBe(true);
    if (pickedWalk.ok) expect(pickedWalk.value.scores.find((s) => s.model === 'seasonal_naive')!.accuracy.mae).toBeGreaterThan(pickedWalk.value.scores.find((s) => s.model === 'naive')!.accuracy.mae);
  });

  it('scores only inside the series it is given (the training part), never past it', () => {
    const noise = normals(3);
    const train = seriesOf(5 * seasonSteps, (i) => dailySine(i) + noise());
    const a = selectByValidation(createAllForecasters(), train, spec);
    // The validation split is inside `train`: appending anything cannot change the choice.
    const longer = seriesOf(8 * seasonSteps, (i) => (i < train.values.length ? train.values[i]! : 1e9));
    const b = selectByValidation(createAllForecasters(), prefix(longer, train.values.length), spec);
    expect(b).toEqual(a);
    if (a.ok) {
      expect(a.value.splitIndex).toBe(Math.floor(train.values.length * 0.7) - 1);
      expect(a.value.scores.map((s) => s.model)).toEqual(['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters']);
    }
  });

  it('excludes models that cannot be fitted on the split', () => {
    const train = seriesOf(2 * seasonSteps + 50, dailySine);
    const picked = selectByValidation(createAllForecasters(), train, spec);
    if (!picked.ok) throw new Error('failed');
    expect(picked.value.scores.find((s) => s.model === 'holt_winters')!.fitted).toBe(false);
    expect(picked.value.best).not.toBe('holt_winters');
  });
});

describe('serving helpers', () => {
  it('fitWithFallback serves the model with naive behind it, or naive alone with a reason', () => {
    const series = seriesOf(3 * seasonSteps, dailySine);
    const hw = fitWithFallback('holt_winters', series, spec);
    expect(hw?.fitted.model).toBe('holt_winters');
    expect(hw?.fallbackReason).toBeUndefined();
    // Before its warm-up Holt-Winters has no forecast; the fallback answers.
    expect(hw?.fitted.forecast(prefix(series, 10)).value).toBe(series.values[9]);
    const short = fitWithFallback('holt_winters', prefix(series, 100), spec);
    expect(short?.fitted.model).toBe('naive');
    expect(short?.fallbackReason).toMatch(/two seasons/);
    expect(fitWithFallback('prophet', series, spec)?.fallbackReason).toMatch(/unknown model/);
    expect(
      fitWithFallback(
        'naive',
        seriesOf(10, () => Number.NaN),
        spec,
      ),
    ).toBeUndefined();
  });

  it('withFallback keeps the primary wherever it has a forecast', () => {
    const series = seriesOf(3 * seasonSteps, dailySine);
    const sn = createForecaster('seasonal_naive').fit(series, spec);
    const naive = createForecaster('naive').fit(series, spec);
    if (!sn.ok || !naive.ok) throw new Error('fit failed');
    const combined = withFallback(sn.value, naive.value).forecastEachOrigin(series);
    const primary = sn.value.forecastEachOrigin(series);
    const fallback = naive.value.forecastEachOrigin(series);
    for (let t = 0; t < series.values.length; t++) {
      expect(combined.value[t]).toBe(Number.isFinite(primary.value[t]!) ? primary.value[t] : fallback.value[t]);
    }
  });

  it('evaluateModels scores every model', () => {
    const noise = normals(4);
    const series = seriesOf(5 * seasonSteps, (i) => dailySine(i) + noise());
    const scores = evaluateModels(series, spec);
    expect(scores.map((s) => s.model)).toEqual(['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters']);
    for (const s of scores) {
      expect(s.points).toBeGreaterThan(400);
      expect(s.mase).toBeGreaterThan(0);
    }
  });

  it("auto's candidate scores are evaluateModels' backtests, so a refit can reuse them instead of backtesting twice", () => {
    // Five seasons, and two (too short for Holt-Winters on the split: it is scored as its naive fallback, as evaluateModels does).
    for (const seasons of [5, 2]) {
      const noise = normals(5);
      const series = seriesOf(seasons * seasonSteps, (i) => dailySine(i) + noise());
      const served = fitServingModel('auto', series, spec);
      const shared = served?.candidateScores ?? [];
      const baselines = evaluateModels(series, spec);
      expect(shared.map((s) => s.model)).toEqual([...baselines.map((s) => s.model), 'lag_regression', 'random_forest']);
      for (const b of baselines) {
        const { fitFailure, ...score } = b;
        expect(shared.find((s) => s.model === b.model)).toMatchObject(score);
        expect(shared.find((s) => s.model === b.model)?.fitFailure === undefined).toBe(fitFailure === undefined);
      }
      if (seasons === 2) expect(baselines.find((b) => b.model === 'holt_winters')?.fitFailure).toBeDefined();
    }
  });
});
