import { readFile, writeFile } from 'node:fs/promises';
import { formatDuration, parseDurationSeconds, messageOf } from '../core/index.js';
import type { Result } from '../core/index.js';
import { forecasterNames, isForecasterName } from '../forecast/index.js';
import {
  type AutoscalingPolicy,
  defaultForecastQuantile,
  hpaPolicy,
  kedaPolicy,
  type LoadTrace,
  loadTraceFromRows,
  oraclePolicy,
  enginePolicy,
  type EnginePolicyDescription,
  type QueueMetric,
  renderSimulationSvg,
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from '../simulate/index.js';
import { inferStepSeconds, readInputCsv } from './csv.js';
import { parseFlags } from './flags.js';
import type { TimestampValueRows } from './csv.js';
import { exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';
import type { CliIo, Command } from './io.js';

/** The policies `foresight simulate` knows. */
export const simulationPolicies = ['hpa', 'keda', 'predictive', 'oracle'] as const;
/** One of {@link simulationPolicies}. */
export type SimulationPolicyName = (typeof simulationPolicies)[number];

const usage = `Usage: foresight simulate --input F.csv [--policy predictive|hpa|keda|oracle] [--compare] [options]

Replays a trace as arrivals into a queue served by replicas that take time to start, under an
autoscaling policy, and reports the SPEC elasticity metrics (θU, θO, τU, τO, instability, jitter),
SLO violation time, replica-minutes, utilisation and scaling actions.

Options:
  --input F.csv                 timestamp,value rows: the arrivals in each interval (unix seconds; header optional)
  --policy P                    predictive (default): Foresight's decision engine as the service runs it, sizing
                                for the calibrated quantile of the forecast arrival rate plus the backlog
                                hpa: the Kubernetes HPA (default behavior, 15 s sync) on the observed queue
                                keda: KEDA's queue-length threshold (through its HPA; 30 s polling)
                                oracle: knows the future demand
  --compare                     also run hpa, keda and oracle (with their defaults) and print one table
  --quantile Q                  predictive: the calibrated quantile it sizes for, the cost/quality knob
                                (0.5–0.995, or "model" for the model's own p90; default ${defaultForecastQuantile})
  --capacity-per-replica N      messages per second one replica serves at the SLO
                                (default: the 95th percentile of the arrival rate / 10)
  --startup-delay D             time from asking for a replica to it serving (default 2m)
  --min N, --max N              replica range (default 1 and 50)
  --slo-wait D                  a message waiting longer violates the SLO (default 60s)
  --tick D                      simulation step (default 15s, the HPA's sync period)
  --step D                      the trace's interval (default: the median interval between rows)
  --hpa-metric M                queue_depth (default) or arrival_rate: what the HPA scales on
  --hpa-target N                AverageValue target per replica (default: 30 s of one replica's work
                                for queue_depth, its capacity for arrival_rate)
  --keda-queue-length N         KEDA's threshold per replica (default: 30 s of one replica's work)
  --model M                     predictive: the forecasting model, auto or one of: ${forecasterNames.join(', ')} (default holt_winters)
  --rules F.yaml                predictive: scaling rules to use instead of the built-in simulation rules
  --json O.json                 write the results as JSON
  --plot O.svg                  write a plot of load, demand, supply and provisioned replicas
  --help                        this text

Durations: 90, 90s, 2m, 1h30m. Deterministic: the same input gives the same output.

${exitCodesHelp('the input or --rules cannot be read or used, or an output cannot be written')}`;

/** What `foresight simulate` was asked to do. */
export interface SimulateArgs {
  readonly input: string;
  readonly policy: SimulationPolicyName;
  readonly capacityPerReplicaPerSecond: number | undefined;
  readonly startupDelaySeconds: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly sloWaitSeconds: number;
  readonly tickSeconds: number;
  readonly stepSeconds: number | undefined;
  readonly hpaMetric: QueueMetric;
  readonly hpaTarget: number | undefined;
  readonly kedaQueueLength: number | undefined;
  readonly model: string;
  /** predictive: the calibrated quantile of the forecast it sizes for, or 'model' for the model's p90. */
  readonly forecastQuantile: number | 'model';
  /** Also run the reactive baselines and the oracle. */
  readonly compare: boolean;
  readonly rules: string | undefined;
  readonly json: string | undefined;
  readonly plot: string | undefined;
}

const flagSpec = {
  input: { type: 'string' },
  policy: { type: 'string' },
  compare: { type: 'boolean' },
  quantile: { type: 'string' },
  'capacity-per-replica': { type: 'string' },
  'startup-delay': { type: 'string' },
  min: { type: 'string' },
  max: { type: 'string' },
  'slo-wait': { type: 'string' },
  tick: { type: 'string' },
  step: { type: 'string' },
  'hpa-metric': { type: 'string' },
  'hpa-target': { type: 'string' },
  'keda-queue-length': { type: 'string' },
  model: { type: 'string' },
  rules: { type: 'string' },
  json: { type: 'string' },
  plot: { type: 'string' },
} as const;

function parseDuration(text: string, flag: string, allowZero: boolean): Result<number, string> {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : text === '0s' ? 0 : parseDurationSeconds(text);
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || (!allowZero && seconds === 0)) {
    return { ok: false, error: `${flag} "${text}" is not a ${allowZero ? '' : 'positive '}duration (examples: 90, 90s, 2m, 1h30m)` };
  }
  return { ok: true, value: seconds };
}

function parsePositive(text: string, flag: string, integer: boolean): Result<number, string> {
  const value = /^\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    return { ok: false, error: `${flag} "${text}" is not a positive ${integer ? 'whole number' : 'number'}` };
  }
  return { ok: true, value };
}

/** Parses the command's arguments; 'help' when help was asked for, an error message for bad usage. */
export function parseSimulateArgs(args: readonly string[]): Result<SimulateArgs | 'help', string> {
  const parsed = parseFlags(args, flagSpec);
  if (!parsed.ok) return parsed;
  if (parsed.value === 'help') return { ok: true, value: 'help' };
  const { compare, ...texts } = parsed.value;
  const values: Readonly<Record<string, string | undefined>> = texts;
  /** The text given for `--flag` (messages name flags with their dashes). */
  const flagText = (flag: string): string | undefined => values[flag.slice(2)];
  const input = flagText('--input');
  if (input === undefined || input === '') return { ok: false, error: '--input is required' };
  const policy = flagText('--policy') ?? 'predictive';
  if (!(simulationPolicies as readonly string[]).includes(policy)) return { ok: false, error: `--policy "${policy}" is not one of: ${simulationPolicies.join(', ')}` };
  const number = (flag: string, integer: boolean): Result<number | undefined, string> => {
    const text = flagText(flag);
    return text === undefined ? { ok: true, value: undefined } : parsePositive(text, flag, integer);
  };
  const duration = (flag: string, fallback: number | undefined, allowZero = false): Result<number | undefined, string> => {
    const text = flagText(flag);
    return text === undefined ? { ok: true, value: fallback } : parseDuration(text, flag, allowZero);
  };
  const capacity = number('--capacity-per-replica', false);
  const startup = duration('--startup-delay', 120, true);
  const slo = duration('--slo-wait', 60);
  const tick = duration('--tick', 15);
  const step = duration('--step', undefined);
  const hpaTarget = number('--hpa-target', false);
  const kedaLength = number('--keda-queue-length', false);
  const minText = flagText('--min');
  const min =
    minText === undefined
      ? { ok: true as const, value: 1 }
      : /^\d+$/.test(minText)
        ? { ok: true as const, value: Number(minText) }
        : { ok: false as const, error: `--min "${minText}" is not a whole number` };
  const max = number('--max', true);
  for (const r of [capacity, startup, slo, tick, step, hpaTarget, kedaLength, min, max]) if (!r.ok) return r;
  const minReplicas = (min as { value: number }).value;
  const maxReplicas = (max as { value: number | undefined }).value ?? 50;
  if (minReplicas > maxReplicas) return { ok: false, error: `--min (${minReplicas}) must not be greater than --max (${maxReplicas})` };
  const hpaMetric = flagText('--hpa-metric') ?? 'queue_depth';
  if (hpaMetric !== 'queue_depth' && hpaMetric !== 'arrival_rate') return { ok: false, error: `--hpa-metric "${hpaMetric}" is not queue_depth or arrival_rate` };
  const model = flagText('--model') ?? 'holt_winters';
  if (model !== 'auto' && !isForecasterName(model)) return { ok: false, error: `--model "${model}" is not a model; use auto or one of: ${forecasterNames.join(', ')}` };
  const quantileText = flagText('--quantile');
  const forecastQuantile = quantileText === undefined ? defaultForecastQuantile : quantileText === 'model' ? 'model' : Number(quantileText);
  if (forecastQuantile !== 'model' && !(/^\d*\.?\d+$/.test(quantileText ?? '0.5') && forecastQuantile >= 0.5 && forecastQuantile <= 0.995)) {
    return { ok: false, error: `--quantile "${quantileText}" is not a number in [0.5, 0.995] or "model"` };
  }
  const value = <T>(r: Result<T, string>): T => (r as { value: T }).value;
  return {
    ok: true,
    value: {
      input,
      policy: policy as SimulationPolicyName,
      capacityPerReplicaPerSecond: value(capacity),
      startupDelaySeconds: value(startup)!,
      minReplicas,
      maxReplicas,
      sloWaitSeconds: value(slo)!,
      tickSeconds: value(tick)!,
      stepSeconds: value(step),
      hpaMetric,
      hpaTarget: value(hpaTarget),
      kedaQueueLength: value(kedaLength),
      model,
      forecastQuantile,
      compare: compare === true,
      rules: flagText('--rules'),
      json: flagText('--json'),
      plot: flagText('--plot'),
    },
  };
}

/** Replicas the 95th percentile of the load needs, when no capacity is given: a scale, not a tuning. */
export const defaultReplicasAtP95 = 10;

/**
 * The default capacity: the 95th percentile of the arrival rate (over the trace's steps with
 * arrivals) divided by {@link defaultReplicasAtP95}, so that every trace is simulated at the same
 * relative scale whatever its units. Undefined when the trace has no arrivals.
 */
export function defaultCapacityPerReplica(trace: LoadTrace): number | undefined {
  const rates = Array.from(trace.series.values)
    .filter((v) => Number.isFinite(v) && v > 0)
    .map((v) => v / trace.series.stepSeconds)
    .sort((a, b) => a - b);
  if (rates.length === 0) return undefined;
  return rates[Math.floor(0.95 * (rates.length - 1))]! / defaultReplicasAtP95;
}

/** What {@link runSimulation} needs besides the rows. */
export type SimulationRunOptions = Omit<SimulateArgs, 'input' | 'json' | 'plot' | 'rules' | 'compare' | 'forecastQuantile'> & {
  /** predictive: the calibrated quantile (default {@link defaultForecastQuantile}) or 'model'. */
  readonly forecastQuantile?: number | 'model';
  /** Rules text for the predictive policy, and its file name for messages. */
  readonly rulesText?: string | undefined;
  readonly rulesFile?: string | undefined;
  /** Keep per-tick series (for the plot). */
  readonly keepSeries?: boolean;
  /** predictive only: run the engine without forecasts (an ablation for benchmarks). */
  readonly withoutForecasts?: boolean;
};

/** A finished run with everything the report shows. */
export interface SimulationRun {
  readonly result: SimulationResult;
  readonly stepSeconds: number;
  readonly options: SimulationOptions;
  readonly capacitySource: 'given' | 'default';
  /** The policy's own settings, for the report. */
  readonly policySettings: Readonly<Record<string, unknown>>;
  readonly predictive?: EnginePolicyDescription;
}

/** The simulation behind `foresight simulate`, without I/O. */
export function runSimulation(rows: TimestampValueRows, options: SimulationRunOptions): Result<SimulationRun, string> {
  if (rows.values.length === 0) return { ok: false, error: 'no usable rows' };
  const stepSeconds = options.stepSeconds ?? inferStepSeconds(rows.timestampsSeconds) ?? 60;
  const trace = loadTraceFromRows(rows.timestampsSeconds, rows.values, stepSeconds);
  const capacity = options.capacityPerReplicaPerSecond ?? defaultCapacityPerReplica(trace);
  if (capacity === undefined) return { ok: false, error: 'the trace has no arrivals; give --capacity-per-replica' };
  const simulation: SimulationOptions = {
    capacityPerReplicaPerSecond: capacity,
    startupDelaySeconds: options.startupDelaySeconds,
    minReplicas: options.minReplicas,
    maxReplicas: options.maxReplicas,
    sloWaitSeconds: options.sloWaitSeconds,
    tickSeconds: options.tickSeconds,
    keepSeries: options.keepSeries ?? true,
  };
  const range = { minReplicas: options.minReplicas, maxReplicas: options.maxReplicas };
  const workSeconds = 30;
  let policy: AutoscalingPolicy;
  let policySettings: Record<string, unknown>;
  let predictive: (AutoscalingPolicy & { describe(): EnginePolicyDescription }) | undefined;
  switch (options.policy) {
    case 'hpa': {
      const target = options.hpaTarget ?? (options.hpaMetric === 'queue_depth' ? capacity * workSeconds : capacity);
      policy = hpaPolicy({ ...range, metric: options.hpaMetric, targetPerReplica: target });
      policySettings = { metric: options.hpaMetric, targetPerReplica: target, tolerance: 0.1, behavior: 'autoscaling/v2 defaults', syncPeriodSeconds: 15 };
      break;
    }
    case 'keda': {
      const length = options.kedaQueueLength ?? capacity * workSeconds;
      policy = kedaPolicy({ ...range, queueLengthPerReplica: length });
      policySettings = {
        queueLengthPerReplica: length,
        pollingIntervalSeconds: 30,
        cooldownPeriodSeconds: 300,
        activationQueueLength: 0,
        minReplicaCount: range.minReplicas,
        behavior: 'autoscaling/v2 defaults',
      };
      break;
    }
    case 'predictive': {
      const built = enginePolicy({
        trace,
        capacityPerReplicaPerSecond: capacity,
        startupDelaySeconds: options.startupDelaySeconds,
        sloWaitSeconds: options.sloWaitSeconds,
        ...range,
        model: options.model,
        forecastQuantile: options.forecastQuantile ?? defaultForecastQuantile,
        ...(options.withoutForecasts === true ? { forecasts: false } : {}),
        ...(options.rulesText === undefined ? {} : { rulesText: options.rulesText }),
        ...(options.rulesFile === undefined ? {} : { rulesFile: options.rulesFile }),
      });
      if (!built.ok) return { ok: false, error: built.error.join('\n') };
      predictive = built.value;
      policy = predictive;
      const d = predictive.describe().policy;
      policySettings = {
        model: options.model,
        forecastQuantile: options.forecastQuantile ?? defaultForecastQuantile,
        periodSeconds: policy.periodSeconds,
        cooldowns: d.cooldowns,
        stabilization: d.stabilization,
        tolerance: d.tolerance,
        useUpperQuantile: d.useUpperQuantile,
        minForecastConfidence: d.minForecastConfidence,
        rules: options.rulesFile ?? 'built-in simulation rules',
      };
      break;
    }
    case 'oracle':
      policy = oraclePolicy({ trace, capacityPerReplicaPerSecond: capacity, startupDelaySeconds: options.startupDelaySeconds, tickSeconds: options.tickSeconds });
      policySettings = { lookaheadSeconds: options.startupDelaySeconds };
      break;
  }
  let result: SimulationResult;
  try {
    result = simulate(trace, policy, simulation);
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, error: error.message };
    throw error;
  }
  return {
    ok: true,
    value: {
      result,
      stepSeconds,
      options: simulation,
      capacitySource: options.capacityPerReplicaPerSecond === undefined ? 'default' : 'given',
      policySettings,
      ...(predictive === undefined ? {} : { predictive: predictive.describe() }),
    },
  };
}

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** The JSON report of a run (no per-tick series). */
export function simulationReport(run: SimulationRun, input: string, rows: number): Record<string, unknown> {
  const { result } = run;
  const { series: _series, ...metrics } = result;
  return {
    input,
    rows,
    stepSeconds: run.stepSeconds,
    policy: result.policy,
    options: { ...run.options, keepSeries: undefined, capacitySource: run.capacitySource },
    policySettings: run.policySettings,
    metrics: { ...metrics.elasticity, ...Object.fromEntries(Object.entries(metrics).filter(([key]) => key !== 'elasticity' && key !== 'policy')) },
    ...(run.predictive === undefined
      ? {}
      : { predictive: { models: run.predictive.models, horizonSteps: run.predictive.horizonSteps, decisions: run.predictive.decisions, reasonCounts: run.predictive.reasonCounts } }),
  };
}

/** Demand ÷ ready replica-minutes, %: how much of what was ready the load needed. */
export const utilisationPercent = (r: SimulationResult): number => (r.readyReplicaMinutes > 0 ? (100 * r.demandReplicaMinutes) / r.readyReplicaMinutes : Number.NaN);

/** The policies `--compare` runs besides the one asked for, in this order. */
const comparedPolicies: readonly SimulationPolicyName[] = ['predictive', 'hpa', 'keda', 'oracle'];

/** The stdout table of `--compare`: one row per policy. */
export function formatComparison(runs: readonly SimulationRun[]): string {
  const lines = [
    '| policy | replica-minutes | utilisation | τU under-provisioned | SLO violation | scaling actions /h |',
    '|---|---|---|---|---|---|',
    ...runs.map((run) => {
      const r = run.result;
      return `| ${r.policy} | ${fixed(r.replicaMinutes, 0)} | ${fixed(utilisationPercent(r), 1)} % | ${fixed(r.elasticity.tauUPercent)} % | ${fixed(r.sloViolationPercent)} % | ${fixed(r.scalingActions.perHour)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** The stdout summary of a run: a small markdown table. */
export function formatSimulationSummary(run: SimulationRun, input: string): string {
  const r = run.result;
  const e = r.elasticity;
  const o = run.options;
  const lines = [
    `foresight simulate: ${input}, policy ${r.policy}, ${fixed(r.durationSeconds / 86400, 2)} days in ${r.ticks} ticks of ${formatDuration(r.tickSeconds)}; trace step ${formatDuration(run.stepSeconds)}`,
    `capacity ${Number(o.capacityPerReplicaPerSecond.toPrecision(4))} messages/s per replica (${run.capacitySource === 'given' ? 'given' : `default: p95 of the arrival rate / ${defaultReplicasAtP95}`}), ` +
      `start-up ${formatDuration(o.startupDelaySeconds)}, replicas ${o.minReplicas}-${o.maxReplicas}, SLO wait ${formatDuration(o.sloWaitSeconds)}`,
    '',
    '| metric | value |',
    '|---|---|',
    `| θU under-provisioning accuracy | ${fixed(e.thetaUPercent)} % |`,
    `| θO over-provisioning accuracy | ${fixed(e.thetaOPercent)} % |`,
    `| τU under-provisioned time | ${fixed(e.tauUPercent)} % |`,
    `| τO over-provisioned time | ${fixed(e.tauOPercent)} % |`,
    `| instability υ | ${fixed(e.instabilityPercent)} % |`,
    `| jitter j | ${fixed(e.jitterPerHour)} /h |`,
    `| SLO violation | ${fixed(r.sloViolationPercent)} % (${fixed(r.sloViolationMinutes, 1)} min) |`,
    `| replica-minutes (provisioned) | ${fixed(r.replicaMinutes, 0)} |`,
    `| replica-minutes (ready) | ${fixed(r.readyReplicaMinutes, 0)} |`,
    `| demand replica-minutes (Σ d·Δt) | ${fixed(r.demandReplicaMinutes, 0)} |`,
    `| utilisation (demand ÷ ready) | ${fixed(utilisationPercent(r), 1)} % |`,
    `| scaling actions | ${r.scalingActions.total} (${r.scalingActions.up} up, ${r.scalingActions.down} down; ${fixed(r.scalingActions.perHour)} /h) |`,
    `| max queue depth / wait | ${fixed(r.maxQueueDepth, 0)} messages / ${fixed(r.maxWaitSeconds, 0)} s |`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `foresight simulate`: see the usage text and DESIGN.md "Command-line contracts". */
export const simulateCommand: Command = async (args: readonly string[], io: CliIo): Promise<number> => {
  const parsed = parseSimulateArgs(args);
  if (!parsed.ok) {
    io.stderr.write(`foresight simulate: ${parsed.error}\n\n${usage}`);
    return exitUsage;
  }
  if (parsed.value === 'help') {
    io.stdout.write(usage);
    return exitOk;
  }
  const options = parsed.value;
  let rulesText: string | undefined;
  if (options.rules !== undefined) {
    try {
      rulesText = await readFile(options.rules, 'utf8');
    } catch (error) {
      io.stderr.write(`foresight simulate: cannot read --rules ${options.rules}: ${messageOf(error)}\n`);
      return exitFailure;
    }
  }
  const csv = await readInputCsv('simulate', options.input, io.stderr);
  if (csv === undefined) return exitFailure;
  const rowCount = csv.rows.values.length;
  const run = runSimulation(csv.rows, { ...options, rulesText, rulesFile: options.rules, keepSeries: options.plot !== undefined });
  if (!run.ok) {
    io.stderr.write(`foresight simulate: ${run.error}\n`);
    return exitFailure;
  }
  io.stdout.write(formatSimulationSummary(run.value, options.input));
  if (options.compare) {
    const runs = [run.value];
    for (const other of comparedPolicies.filter((p) => p !== options.policy)) {
      const extra = runSimulation(csv.rows, { ...options, policy: other, rulesText, rulesFile: options.rules, keepSeries: false });
      if (!extra.ok) {
        io.stderr.write(`foresight simulate: ${other}: ${extra.error}\n`);
        return exitFailure;
      }
      runs.push(extra.value);
    }
    io.stdout.write(`\nCompared with the reactive baselines at their defaults and the oracle:\n\n${formatComparison(runs)}`);
  }
  try {
    if (options.json !== undefined) {
      await writeFile(options.json, `${JSON.stringify(simulationReport(run.value, options.input, rowCount), null, 2)}\n`);
      io.stderr.write(`wrote ${options.json}\n`);
    }
    const r = run.value.result;
    if (options.plot !== undefined && r.series !== undefined) {
      const subtitle =
        `τU ${fixed(r.elasticity.tauUPercent, 1)} %, θU ${fixed(r.elasticity.thetaUPercent, 1)} %, τO ${fixed(r.elasticity.tauOPercent, 1)} %, ` +
        `θO ${fixed(r.elasticity.thetaOPercent, 1)} %, SLO violation ${fixed(r.sloViolationPercent, 1)} %, ${fixed(r.replicaMinutes, 0)} replica-minutes`;
      const series = r.series;
      await writeFile(options.plot, renderSimulationSvg(series, { title: `${options.input} — ${r.policy}`, subtitle }));
      io.stderr.write(`wrote ${options.plot}\n`);
    }
  } catch (error) {
    io.stderr.write(`foresight simulate: cannot write output: ${messageOf(error)}\n`);
    return exitFailure;
  }
  return exitOk;
};
