import type { InputRef, RegularSeries, RobustRange } from '../core/index.js';
import { type PointForecast, saneForecast } from '../forecast/index.js';
import type { LearnedChoice } from './learned-choice.js';
import type { HostSeriesReply } from './model-host-port.js';
import type { SeriesForecast } from './snapshot.js';

/** One series of a cycle: its history, the baseline's reply, and the learned model's say. */
export interface ServedSeries {
  readonly input: InputRef;
  readonly key: string;
  readonly series: RegularSeries;
  /** The history's robust range (the history window keeps it), for the sanity check. */
  readonly range: RobustRange | undefined;
  readonly reply: HostSeriesReply;
  readonly choice?: LearnedChoice;
  readonly learnedPoint?: PointForecast;
}

/** What serves for one series at each horizon, and the forecasts the sanity check refused. */
export interface Served {
  readonly forecasts: SeriesForecast[];
  readonly rejected: ('not_finite' | 'implausible')[];
}

/**
 * The forecast that serves for each horizon of one series: the learned model's where it won on
 * validation and gave a finite forecast, else the baseline's; then forecast sanity: an implausible
 * forecast is replaced (by the baseline's, else naive), said why, and counted.
 */
export function servedForecasts(s: ServedSeries, stepSeconds: number, seasonSteps: number, originMs: number): Served {
  const { input, key, series, reply, choice, learnedPoint } = s;
  const forecasts: SeriesForecast[] = [];
  const rejected: Served['rejected'] = [];
  for (const baseline of reply.forecasts) {
    const { horizonSeconds } = baseline;
    let model = baseline.model;
    let fallbackReason = baseline.fallbackReason;
    let selection = baseline.selection;
    let point = { value: baseline.value, p10: baseline.p10, p90: baseline.p90 };
    // A learned model that cannot forecast this history (too short a tail, a gap) leaves the baseline serving.
    if (choice?.use === true && choice.horizonSeconds === horizonSeconds && learnedPoint !== undefined && [learnedPoint.value, learnedPoint.p10, learnedPoint.p90].every(Number.isFinite)) {
      model = choice.model.model;
      fallbackReason = undefined;
      point = learnedPoint;
      selection = {
        served: model,
        why: 'learned_beats_baseline',
        reason: `validation MASE ${choice.learnedMase.toPrecision(3)} below the baseline's ${choice.baselineMase.toPrecision(3)} on origins it was not trained on`,
        runnerUp: baseline.selection?.served ?? baseline.model,
      };
    }
    const sane = saneForecast(input, series, Math.round(horizonSeconds / stepSeconds), seasonSteps, point, model === baseline.model ? undefined : baseline, s.range);
    if (sane.rejected !== undefined) {
      rejected.push(sane.rejected.reason);
      const standIn = model === baseline.model ? 'naive' : baseline.model;
      fallbackReason = `${model}: ${sane.rejected.message}; using ${standIn}`;
      selection = { served: standIn, why: 'sanity_fallback', reason: fallbackReason, runnerUp: selection?.served ?? model };
      model = standIn;
    }
    point = sane.point;
    if (![point.value, point.p10, point.p90].every(Number.isFinite)) continue;
    forecasts.push({
      seriesKey: key,
      input,
      horizonSeconds,
      originMs,
      model,
      ...(fallbackReason === undefined ? {} : { fallbackReason }),
      ...(selection === undefined ? {} : { selection }),
      ...point,
    });
  }
  return { forecasts, rejected };
}
