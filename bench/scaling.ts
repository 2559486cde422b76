/**
 * `npm run bench:scaling`: Foresight's default decision path (the engine with the calibrated
 * quantile sizing) against a cost/quality frontier of tuned reactive autoscalers, over the
 * request-like traces of ../shared/data/dev (issue 15, docs/scaling-benchmark.md).
 *
 * For every trace and start-up delay (2, 5, 10 min): the reactive sweep (HPA on the arrival rate
 * at 30–90 % target utilisation, HPA and KEDA on the queue depth at 5–120 s of one replica's work)
 * gives points (replica-minutes, under-provisioned time τU) and (replica-minutes, SLO violation);
 * their lower convex hull is the frontier. Each predictive run is read against it at its own
 * replica-minutes (interpolated): ratio = its τU ÷ the frontier's, both floored at one tick.
 *
 * Honest selection: the quantile (the knob) is chosen for each trace by leave-one-trace-out (the
 * quantile with the best geometric-mean ratio over the other traces and every delay), so no
 * trace's figure comes from a setting chosen on it; the choice on all traces is what ships as the
 * config default. Capacity per replica is the trace's p95 arrival
 * rate / 10; traces whose capacity would be under 1 message per second are rescaled ×10^k first, so
 * that HPA targets stay far above Kubernetes' milli-unit resolution (the problem in replica units
 * is unchanged).
 *
 * Usage: tsx bench/scaling.ts [--json OUT.json] [--data DIR] [--only SUBSTRING] [--delays 2,5,10] [--plots DIR]
 *        [--quantiles 0.95,0.98] [--cooldowns UP,DOWN] [--down-window SECONDS]
 *
 * The last three explore the knob and the engine's damping (docs/scaling-benchmark.md#the-knob):
 * other quantiles to sweep (the leave-one-trace-out choice is then made among them), and the
 * engine's cooldowns (seconds after a scale-up before the next one, after any scaling before a
 * scale-down) and scale-down window instead of the service's defaults.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { auditedLeaveOneGroupOut, chooseCandidate } from './support/leave-one-out.js';
import { inferStepSeconds, parseInputCsv } from '../src/cli/csv.js';
import { defaultCapacityPerReplica } from '../src/cli/simulate.js';
import { geometricMean } from '../src/forecast/index.js';
import { defaultPolicySettings, type PolicySettings } from '../src/decide/index.js';
import {
  defaultForecastQuantile,
  type AutoscalingPolicy,
  enginePolicy,
  type ForecastFeed,
  type FrontierPanel,
  type FrontierPoint,
  frontierOf,
  type LoadTrace,
  loadTraceFromRows,
  oraclePolicy,
  type PredictiveForecasts,
  predictiveForecasts,
  predictiveHorizonSteps,
  predictivePolicy,
  reactiveSweep,
  readFrontier,
  renderFrontierSvg,
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from '../src/simulate/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const traces = [
  'web/nasa_http_1995_requests_per_min.csv',
  'nab/realKnownCause/nyc_taxi.csv',
  ...['AAPL', 'AMZN', 'CRM', 'CVS', 'FB', 'GOOG', 'IBM', 'KO', 'PFE', 'UPS'].map((t) => `nab/realTweets/Twitter_volume_${t}.csv`),
];

/**
 * The issue's ranges (HPA targets 50–90 %, queue targets 5–120 s), widened to 30–40 % so that the
 * frontier reaches most of the predictive policy's costs (a reading costlier than every reactive
 * point is read at the costliest one, which flatters the predictive policy; the tables mark it c).
 */
const reactiveGrid = { rateUtilisations: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], queueSeconds: [5, 10, 30, 60, 120] };
/** The knob's values swept by default (the predictive frontier); the default is chosen among them by leave-one-trace-out. */
const defaultQuantiles = [0.95, 0.98];
const sloWaitSeconds = 60;

interface Measured {
  readonly cost: number;
  readonly tauU: number;
  readonly slo: number;
  readonly utilisation: number;
}

interface DelayResult {
  readonly reactive: (Measured & { readonly label: string; readonly family: string })[];
  readonly oracle: Measured;
  /** The default decision path (the engine with the calibrated sizing) at each of {@link quantiles}. */
  readonly candidates: (Measured & { readonly quantile: number })[];
  /** predictivePolicy at the default quantile: the same sizing without the engine's cooldowns and windows. */
  readonly undamped: Measured;
  /** One tick's share of the run, %: the floor of every ratio. */
  readonly floorPercent: number;
}

interface TraceRun {
  readonly trace: string;
  readonly scale: number;
  readonly capacity: number;
  readonly loaded: LoadTrace;
  readonly forecasts: PredictiveForecasts & { readonly feed: ForecastFeed };
  readonly byDelay: Map<number, DelayResult>;
  chosenQuantile?: number;
}

function parseArgs(argv: readonly string[]) {
  let json: string | undefined;
  let dataDir = resolve(repoRoot, '../shared/data/dev');
  let only: string | undefined;
  let delays = [2, 5, 10];
  let plots: string | undefined;
  let sweep = defaultQuantiles;
  let settings: PolicySettings | undefined;
  const seconds = (text: string) => (/^\d+(,\d+)*$/.test(text) ? text.split(',').map(Number) : undefined);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--json' && next !== undefined) {
      json = resolve(next);
      i++;
    } else if (arg === '--data' && next !== undefined) {
      dataDir = resolve(next);
      i++;
    } else if (arg === '--only' && next !== undefined) {
      only = next;
      i++;
    } else if (arg === '--plots' && next !== undefined) {
      plots = resolve(next);
      i++;
    } else if (arg === '--delays' && next !== undefined && /^\d+(,\d+)*$/.test(next)) {
      delays = next.split(',').map(Number);
      i++;
    } else if (arg === '--quantiles' && next !== undefined && next.split(',').every((q) => Number(q) >= 0.5 && Number(q) <= 0.995)) {
      // The calibration tabulates 0.5–0.995 (src/simulate/band-calibration.ts), as decisions.forecastQuantile allows.
      sweep = next.split(',').map(Number);
      i++;
    } else if (arg === '--cooldowns' && next !== undefined && seconds(next)?.length === 2) {
      const [up, down] = seconds(next)!;
      settings = { ...settings, cooldowns: { ...defaultPolicySettings.cooldowns, scaleUpSeconds: up!, scaleDownSeconds: down! } };
      i++;
    } else if (arg === '--down-window' && next !== undefined && seconds(next)?.length === 1) {
      settings = { ...settings, stabilization: { ...defaultPolicySettings.stabilization, scaleDownSeconds: seconds(next)![0]! } };
      i++;
    } else {
      process.stderr.write(
        `bench:scaling: bad argument "${arg}" (usage: tsx bench/scaling.ts [--json OUT.json] [--data DIR] [--only S] [--delays 2,5,10] [--plots DIR] [--quantiles 0.95,0.98] [--cooldowns UP,DOWN] [--down-window SECONDS])\n`,
      );
      process.exit(2);
    }
  }
  return { json, dataDir, only, delays, plots, sweep, settings };
}

/**
 * The run's arguments, read once. `quantiles`: the knob's values this run sweeps (--quantiles);
 * `engineSettings`: the engine's settings over the service's defaults (--cooldowns, --down-window).
 */
const { json, dataDir, only, delays, plots, sweep: quantiles, settings: engineSettings } = parseArgs(process.argv.slice(2));

const measure = (r: SimulationResult): Measured => ({
  cost: r.replicaMinutes,
  tauU: r.elasticity.tauUPercent,
  slo: r.sloViolationPercent,
  utilisation: r.readyReplicaMinutes > 0 ? (100 * r.demandReplicaMinutes) / r.readyReplicaMinutes : Number.NaN,
});

const systemFor = (capacity: number, delayMinutes: number): SimulationOptions => ({
  capacityPerReplicaPerSecond: capacity,
  startupDelaySeconds: delayMinutes * 60,
  minReplicas: 1,
  maxReplicas: 50,
  sloWaitSeconds,
  tickSeconds: 15,
  keepSeries: false,
});

/** The default decision path: Foresight's engine with the calibrated sizing at `quantile`. */
function runEngine(run: TraceRun, delayMinutes: number, quantile: number): Measured {
  const built = enginePolicy({
    trace: run.loaded,
    capacityPerReplicaPerSecond: run.capacity,
    startupDelaySeconds: delayMinutes * 60,
    sloWaitSeconds,
    minReplicas: 1,
    maxReplicas: 50,
    shared: run.forecasts,
    forecastQuantile: quantile,
    ...(engineSettings === undefined ? {} : { settings: engineSettings }),
  });
  if (!built.ok) throw new Error(built.error.join('\n'));
  return measure(simulate(run.loaded, built.value, systemFor(run.capacity, delayMinutes)));
}

/** Every policy on one trace at one start-up delay. */
function runDelay(run: TraceRun, delayMinutes: number): DelayResult {
  const { loaded: trace, capacity, forecasts } = run;
  const system = systemFor(capacity, delayMinutes);
  const sim = (policy: AutoscalingPolicy) => measure(simulate(trace, policy, system));
  const reactive = reactiveSweep(capacity, system, reactiveGrid).map((s) => ({ ...sim(s.make()), label: s.label, family: s.family }));
  const oracle = sim(oraclePolicy({ trace, capacityPerReplicaPerSecond: capacity, startupDelaySeconds: system.startupDelaySeconds, tickSeconds: system.tickSeconds }));
  const candidates = quantiles.map((quantile) => ({ ...runEngine(run, delayMinutes, quantile), quantile }));
  const undamped = sim(
    predictivePolicy({ trace, capacityPerReplicaPerSecond: capacity, startupDelaySeconds: system.startupDelaySeconds, sloWaitSeconds, quantile: defaultForecastQuantile, forecasts }),
  );
  const ticks = Math.ceil((trace.endMs - trace.series.startMs) / (system.tickSeconds * 1000));
  return { reactive, oracle, candidates, undamped, floorPercent: 100 / Math.max(1, ticks) };
}

/** A policy's shortfall ÷ the frontier's at its replica-minutes, both floored at one tick. */
function ratio(result: DelayResult, m: Measured, metric: 'tauU' | 'slo') {
  const hull = frontierOf(
    result.reactive.map((p): FrontierPoint => ({ cost: p.cost, value: p[metric] })),
    'hull',
  );
  const reading = readFrontier(hull, m.cost);
  return { ratio: Math.max(m[metric], result.floorPercent) / Math.max(reading.value, result.floorPercent), frontier: reading.value, position: reading.position };
}

async function loadTrace(path: string, name: string): Promise<{ loaded: LoadTrace; scale: number; capacity: number }> {
  const csv = parseInputCsv(await readFile(path, 'utf8'), path);
  const ts = csv.rows.timestampsSeconds;
  const step = inferStepSeconds(ts) ?? 60;
  const capacity = defaultCapacityPerReplica(loadTraceFromRows(ts, csv.rows.values, step));
  if (capacity === undefined) throw new Error(`${name}: no arrivals`);
  let scale = 1;
  while (capacity * scale < 1) scale *= 10;
  return {
    loaded: loadTraceFromRows(
      ts,
      csv.rows.values.map((v) => v * scale),
      step,
    ),
    scale,
    capacity: capacity * scale,
  };
}

const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const short = (trace: string) =>
  trace
    .replace(/^.*\//, '')
    .replace(/\.csv$/, '')
    .replace('Twitter_volume_', 'tweets ')
    .replace('_1995_requests_per_min', '');
const candidateAt = (result: DelayResult, quantile: number) => result.candidates.find((c) => c.quantile === quantile)!;

/** Geometric-mean τU ratio of `quantile` over some traces and every delay: what the selection minimises. */
function pooledRatio(runs: readonly TraceRun[], items: readonly number[], quantile: number): number {
  return geometricMean(items.flatMap((i) => [...runs[i]!.byDelay.values()].map((d) => ratio(d, candidateAt(d, quantile), 'tauU').ratio)));
}

/**
 * Leave-one-trace-out: each trace's quantile is the one with the best pooled ratio over the other
 * traces (bench/support/leave-one-out.ts). Every item the objective is shown is recorded and
 * checked against the held-out trace (auditedLeaveOneGroupOut throws otherwise), so the printed
 * claim is a checked one.
 */
function selectQuantiles(runs: TraceRun[]): { shipped: number; lines: string[] } {
  const folds = auditedLeaveOneGroupOut(
    runs.map((r) => r.trace),
    quantiles,
    (q, items) => -pooledRatio(runs, items, q),
  );
  const lines = folds.map((fold) => {
    runs[fold.heldOut[0]!]!.chosenQuantile = fold.candidate;
    return `${short(fold.group)}: q ${fold.candidate} (chosen on ${fold.shown.length} other traces; the selection was never shown the scored trace)`;
  });
  const all = runs.map((_, i) => i);
  const shipped = quantiles[chooseCandidate(quantiles, all, (q, items) => -pooledRatio(runs, items, q)).chosen]!;
  return { shipped, lines };
}

async function main(): Promise<void> {
  if (!existsSync(dataDir)) {
    process.stderr.write(`bench:scaling: ${dataDir} does not exist (the benchmark needs ../shared/data)\n`);
    process.exit(2);
  }
  const runs: TraceRun[] = [];
  for (const name of traces.filter((t) => only === undefined || t.includes(only))) {
    const path = join(dataDir, name);
    if (!existsSync(path)) {
      process.stderr.write(`${name}: missing, skipped\n`);
      continue;
    }
    const began = performance.now();
    const { loaded, scale, capacity } = await loadTrace(path, name);
    const forecasts = predictiveForecasts(loaded, { maxHorizonSteps: predictiveHorizonSteps(loaded.series.stepSeconds, Math.max(...delays) * 60) });
    const run: TraceRun = { trace: name, scale, capacity, loaded, forecasts, byDelay: new Map() };
    for (const delay of delays) run.byDelay.set(delay, runDelay(run, delay));
    runs.push(run);
    process.stderr.write(`${name}: ×${scale}, capacity ${f(capacity, 2)}/s (${f((performance.now() - began) / 1000, 0)} s)\n`);
    // The measurements so far, so that a long run that is stopped still leaves them.
    if (json !== undefined)
      await writeFile(json, `${JSON.stringify({ partial: true, runs: runs.map(({ trace, scale, capacity, byDelay }) => ({ trace, scale, capacity, byDelay: Object.fromEntries(byDelay) })) })}\n`);
  }
  const selection = runs.length >= 2 ? selectQuantiles(runs) : { shipped: defaultForecastQuantile, lines: ['one trace: no leave-one-out, the default quantile is scored'] };
  if (runs.length < 2) for (const run of runs) run.chosenQuantile = defaultForecastQuantile;
  for (const line of selection.lines) process.stderr.write(`${line}\n`);
  if (json !== undefined) {
    const plain = runs.map(({ trace, scale, capacity, chosenQuantile, byDelay }) => ({ trace, scale, capacity, chosenQuantile, byDelay: Object.fromEntries(byDelay) }));
    await writeFile(json, `${JSON.stringify({ quantiles, engineSettings, reactiveGrid, selection, defaultForecastQuantile, runs: plain }, null, 2)}\n`);
  }
  process.stdout.write(`${report(runs, delays, selection)}\n`);
  if (plots !== undefined) await writePlots(runs, plots);
}

function report(runs: readonly TraceRun[], delays: readonly number[], selection: { shipped: number; lines: readonly string[] }): string {
  const out: string[] = [];
  out.push('## Scaling against the tuned reactive frontier (bench:scaling)', '');
  out.push('The default decision path (the engine with the calibrated sizing) at the quantile chosen for each trace by leave-one-trace-out:', '');
  for (const line of selection.lines) out.push(`- ${line}`);
  out.push(
    '',
    `Chosen on all ${runs.length} traces (what ships): q ${selection.shipped}; the config default (decisions.forecastQuantile) is ${defaultForecastQuantile}${selection.shipped === defaultForecastQuantile ? '' : ' — DIFFERENT: update it'}.`,
    '',
  );
  if (engineSettings !== undefined) out.push(`Engine settings over the service's defaults: ${JSON.stringify(engineSettings)}.`, '');
  out.push("Ratios: τU (or SLO violation time) ÷ the reactive frontier's at the same replica-minutes; c = costlier than every reactive point (read at the costliest), b = cheaper.", '');
  for (const delay of delays) {
    out.push(`### Start-up ${delay} min`, '');
    out.push(
      '| trace | oracle: replica-min / util % / SLO % | default path: q / cost ÷ oracle / τU % / frontier τU % / **τU ratio** / SLO % / SLO ratio / **util %** | predictive-q undamped: cost ÷ oracle / τU ratio / SLO % / util % |',
    );
    out.push('|---|---|---|---|');
    const ratios = { engine: [] as number[], slo: [] as number[], undamped: [] as number[] };
    const targets: string[] = [];
    const pos = (x: { position: string }) => (x.position === 'inside' ? '' : x.position === 'costlier' ? ' c' : ' b');
    for (const r of runs) {
      const d = r.byDelay.get(delay)!;
      const p = candidateAt(d, r.chosenQuantile!);
      const tau = ratio(d, p, 'tauU');
      const slo = ratio(d, p, 'slo');
      const u = ratio(d, d.undamped, 'tauU');
      ratios.engine.push(tau.ratio);
      ratios.slo.push(slo.ratio);
      ratios.undamped.push(u.ratio);
      if (d.oracle.utilisation >= 70 && d.oracle.slo <= 1) targets.push(`${short(r.trace)} ${p.utilisation >= 70 && p.utilisation <= 90 && p.slo <= 1 ? 'met' : 'missed'}`);
      const o = d.oracle;
      out.push(
        `| ${short(r.trace)}${r.scale > 1 ? ` (×${r.scale})` : ''} | ${f(o.cost, 0)} / ${f(o.utilisation, 0)} / ${f(o.slo, 2)} | ${r.chosenQuantile} / ${f(p.cost / o.cost, 2)} / ${f(p.tauU, 2)} / ${f(tau.frontier, 2)}${pos(tau)} / **${f(tau.ratio, 2)}** / ${f(p.slo, 2)} / ${f(slo.ratio, 2)} / **${f(p.utilisation, 0)}** | ${f(d.undamped.cost / o.cost, 2)} / ${f(u.ratio, 2)}${pos(u)} / ${f(d.undamped.slo, 2)} / ${f(d.undamped.utilisation, 0)} |`,
      );
    }
    out.push('');
    out.push(
      `Geometric means over ${runs.length} traces: default path τU ratio **${f(geometricMean(ratios.engine), 2)}** (SLO ratio ${f(geometricMean(ratios.slo), 2)}); predictive-q undamped at q ${defaultForecastQuantile}: ${f(geometricMean(ratios.undamped), 2)}.`,
    );
    const perQ = quantiles.map((q) => `${q}: ${f(geometricMean(runs.map((r) => ratio(r.byDelay.get(delay)!, candidateAt(r.byDelay.get(delay)!, q), 'tauU').ratio)), 2)}`);
    out.push(`Default path τU ratio at each quantile (the knob, not a selection): ${perQ.join(', ')}.`);
    out.push(`Utilisation 70–90 % with SLO ≤ 1 %, on the traces where the oracle has utilisation ≥ 70 % and SLO ≤ 1 %: ${targets.length === 0 ? 'no such trace' : targets.join(', ')}.`, '');
    out.push(...knobTable(runs, delay));
  }
  return out.join('\n');
}

/**
 * Every swept quantile on every trace: what the knob trades (cost, τU ratio, SLO, utilisation),
 * with ✓ where utilisation is 70–90 % with SLO violation ≤ 1 % (the design's target).
 */
function knobTable(runs: readonly TraceRun[], delay: number): string[] {
  const out = [`The knob at start-up ${delay} min (each cell: cost ÷ oracle / τU ratio / SLO % / util %; ✓ = util 70–90 % with SLO ≤ 1 %):`, ''];
  out.push(`| trace | ${quantiles.map((q) => `q ${q}`).join(' | ')} |`, `|---|${quantiles.map(() => '---|').join('')}`);
  for (const r of runs) {
    const d = r.byDelay.get(delay)!;
    const cells = quantiles.map((q) => {
      const c = candidateAt(d, q);
      const target = c.utilisation >= 70 && c.utilisation <= 90 && c.slo <= 1 ? ' ✓' : '';
      return `${f(c.cost / d.oracle.cost, 2)} / ${f(ratio(d, c, 'tauU').ratio, 2)} / ${f(c.slo, 2)} / ${f(c.utilisation, 0)}${target}`;
    });
    out.push(`| ${short(r.trace)} | ${cells.join(' | ')} |`);
  }
  out.push('');
  return out;
}

async function writePlots(runs: readonly TraceRun[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const r of runs) {
    const panels: FrontierPanel[] = [...r.byDelay].map(([delay, d]) => {
      const rel = (m: Measured, label: string) => ({
        cost: m.cost / d.oracle.cost,
        value: m.tauU,
        label: `${label}: ${f(m.cost / d.oracle.cost, 2)}× oracle, τU ${f(m.tauU, 2)} %, SLO ${f(m.slo, 2)} %, util ${f(m.utilisation, 0)} %`,
      });
      const family = (name: string) => d.reactive.filter((p) => p.family === name).map((p) => rel(p, p.label));
      const hull = frontierOf(
        d.reactive.map((p) => ({ cost: p.cost, value: p.tauU })),
        'hull',
      );
      return {
        title: `start-up ${delay} min`,
        series: [
          { name: 'HPA on arrival rate', color: '#1f77b4', marker: 'circle', points: family('hpa-rate') },
          { name: 'HPA on queue depth', color: '#ff7f0e', marker: 'square', points: family('hpa-queue') },
          { name: 'KEDA queue length', color: '#2ca02c', marker: 'diamond', points: family('keda-queue') },
          { name: 'reactive frontier (hull)', color: '#777777', line: 'dashed', points: hull.map((p) => ({ cost: p.cost / d.oracle.cost, value: p.value, label: 'frontier' })) },
          { name: 'predictive, default path (quantile sweep)', color: '#d62728', line: 'solid', marker: 'circle', fit: true, points: d.candidates.map((c) => rel(c, `engine q ${c.quantile}`)) },
          { name: `predictive-q undamped, q ${defaultForecastQuantile}`, color: '#9467bd', marker: 'diamond', fit: true, points: [rel(d.undamped, 'predictive-q')] },
        ],
      } satisfies FrontierPanel;
    });
    await writeFile(join(dir, `${short(r.trace).replace(/\s+/g, '-')}.svg`), renderFrontierSvg(`${short(r.trace)}: replica-minutes vs under-provisioned time`, panels));
  }
}

await main();
