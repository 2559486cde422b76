/**
 * `npm run bench:scaling`: every autoscaling policy of `foresight simulate` over the request-like
 * traces of ../shared/data/dev, with the same simulated system for all of them (DESIGN.md
 * "Quality bars": at least 50 % less under-provisioned time than the default HPA at no more
 * replica-minutes). Prints markdown tables (or JSON with --json).
 *
 * Traces (arrival counts per interval): web/nasa_http_1995_requests_per_min (HTTP requests per
 * minute), nab/realTweets/* (mentions per 5 minutes), nab/realKnownCause/nyc_taxi (passengers per
 * 30 minutes). Not used: nab/realTraffic (occupancy, speed and travel time are not arrivals),
 * realAdExchange (prices), the CPU traces (utilisation) and the synthetic series.
 *
 * One setting for all traces, no per-file tuning: capacity per replica = the trace's 95th
 * percentile arrival rate / 10, start-up 2 minutes, 1–50 replicas, SLO wait 60 s, 15 s ticks;
 * every policy with its defaults (the predictive engine with the service's default decision
 * settings and the built-in simulation rules, Holt-Winters forecasts refitted daily).
 *
 * Usage: tsx bench/scaling.ts [--json] [--data DIR] [--only SUBSTRING]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseInputCsv } from '../src/cli/csv.js';
import { runSimulation, type SimulationRun, type SimulationRunOptions } from '../src/cli/simulate.js';
import { geometricMean } from '../src/forecast/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const traces = [
  'web/nasa_http_1995_requests_per_min.csv',
  'nab/realKnownCause/nyc_taxi.csv',
  ...['AAPL', 'AMZN', 'CRM', 'CVS', 'FB', 'GOOG', 'IBM', 'KO', 'PFE', 'UPS'].map((t) => `nab/realTweets/Twitter_volume_${t}.csv`),
];

/** The policies compared; `hpa` is the baseline of the goal. */
const variants: readonly { readonly name: string; readonly options: Partial<SimulationRunOptions> }[] = [
  { name: 'hpa', options: { policy: 'hpa', hpaMetric: 'queue_depth' } },
  { name: 'hpa-rate', options: { policy: 'hpa', hpaMetric: 'arrival_rate' } },
  { name: 'keda', options: { policy: 'keda' } },
  { name: 'predictive', options: { policy: 'predictive' } },
  { name: 'reactive-engine', options: { policy: 'predictive', withoutForecasts: true } },
  { name: 'oracle', options: { policy: 'oracle' } },
];

const base: SimulationRunOptions = {
  policy: 'hpa',
  capacityPerReplicaPerSecond: undefined,
  startupDelaySeconds: 120,
  minReplicas: 1,
  maxReplicas: 50,
  sloWaitSeconds: 60,
  tickSeconds: 15,
  stepSeconds: undefined,
  hpaMetric: 'queue_depth',
  hpaTarget: undefined,
  kedaQueueLength: undefined,
  model: 'holt_winters',
  keepSeries: false,
};

interface Row {
  readonly trace: string;
  readonly policy: string;
  readonly tauU: number;
  readonly thetaU: number;
  readonly tauO: number;
  readonly thetaO: number;
  readonly instability: number;
  readonly jitterPerHour: number;
  readonly sloViolation: number;
  readonly replicaMinutes: number;
  readonly actionsPerHour: number;
  readonly seconds: number;
  readonly forecastUse?: { readonly scaleUps: number; readonly lowConfidence: number; readonly decisions: number };
}

function parseArgs(argv: readonly string[]): { json: boolean; dataDir: string; only: string | undefined } {
  let json = false;
  let dataDir = resolve(repoRoot, '../shared/data/dev');
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--data' && argv[i + 1] !== undefined) dataDir = resolve(argv[++i]!);
    else if (arg === '--only' && argv[i + 1] !== undefined) only = argv[++i]!;
    else {
      process.stderr.write(`bench:scaling: unknown argument "${arg}" (usage: tsx bench/scaling.ts [--json] [--data DIR] [--only SUBSTRING])\n`);
      process.exit(2);
    }
  }
  return { json, dataDir, only };
}

const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function toRow(trace: string, policy: string, run: SimulationRun, seconds: number): Row {
  const r = run.result;
  const counts = run.predictive?.reasonCounts;
  return {
    trace,
    policy,
    tauU: r.elasticity.tauUPercent,
    thetaU: r.elasticity.thetaUPercent,
    tauO: r.elasticity.tauOPercent,
    thetaO: r.elasticity.thetaOPercent,
    instability: r.elasticity.instabilityPercent,
    jitterPerHour: r.elasticity.jitterPerHour,
    sloViolation: r.sloViolationPercent,
    replicaMinutes: r.replicaMinutes,
    actionsPerHour: r.scalingActions.perHour,
    seconds,
    ...(counts === undefined || policy !== 'predictive'
      ? {}
      : { forecastUse: { scaleUps: counts['forecast_scale_up'] ?? 0, lowConfidence: counts['forecast_low_confidence'] ?? 0, decisions: run.predictive!.decisions } }),
  };
}

async function main(): Promise<void> {
  const { json, dataDir, only } = parseArgs(process.argv.slice(2));
  if (!existsSync(dataDir)) {
    process.stderr.write(`bench:scaling: ${dataDir} does not exist (the benchmark needs ../shared/data)\n`);
    process.exit(2);
  }
  const rows: Row[] = [];
  for (const trace of traces.filter((t) => only === undefined || t.includes(only))) {
    const path = join(dataDir, trace);
    if (!existsSync(path)) {
      process.stderr.write(`${trace}: missing, skipped\n`);
      continue;
    }
    const csv = parseInputCsv(await readFile(path, 'utf8'), path);
    for (const variant of variants) {
      const began = performance.now();
      const run = runSimulation(csv.rows, { ...base, ...variant.options });
      if (!run.ok) throw new Error(`${trace} ${variant.name}: ${run.error}`);
      const seconds = (performance.now() - began) / 1000;
      rows.push(toRow(trace, variant.name, run.value, seconds));
      process.stderr.write(`${trace} ${variant.name}: τU ${f(run.value.result.elasticity.tauUPercent)} %, ${f(run.value.result.replicaMinutes, 0)} replica-minutes (${f(seconds)} s)\n`);
    }
  }
  const byTrace = new Map<string, Map<string, Row>>();
  for (const row of rows) {
    if (!byTrace.has(row.trace)) byTrace.set(row.trace, new Map());
    byTrace.get(row.trace)!.set(row.policy, row);
  }
  const comparisons = (baseline: string) =>
    [...byTrace].map(([trace, policies]) => {
      const p = policies.get('predictive')!;
      const b = policies.get(baseline)!;
      const tauRatio = b.tauU > 0 ? p.tauU / b.tauU : Number.NaN;
      const costRatio = p.replicaMinutes / b.replicaMinutes;
      return { trace, tauRatio, costRatio, met: tauRatio <= 0.5 && costRatio <= 1 };
    });
  const summary = (baseline: string) => {
    const c = comparisons(baseline);
    return {
      baseline,
      traces: c.length,
      met: c.filter((x) => x.met).length,
      geomeanTauURatio: geometricMean(c.map((x) => x.tauRatio).filter((x) => x > 0)),
      geomeanCostRatio: geometricMean(c.map((x) => x.costRatio)),
      perTrace: c,
    };
  };
  const summaries = ['hpa', 'hpa-rate', 'keda'].map(summary);
  if (json) {
    process.stdout.write(`${JSON.stringify({ rows, summaries }, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push('## Scaling simulation (bench:scaling)', '');
  out.push('Capacity per replica = p95 arrival rate / 10; start-up 2 min; 1–50 replicas; SLO wait 60 s; 15 s ticks. Replica-minutes count starting replicas.', '');
  out.push('| trace | policy | τU % | θU % | τO % | θO % | υ % | jitter /h | SLO viol. % | replica-min | vs hpa | actions /h | s |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [trace, policies] of byTrace) {
    const hpa = policies.get('hpa')!;
    for (const row of policies.values()) {
      out.push(
        `| ${trace.replace(/^.*\//, '').replace(/\.csv$/, '')} | ${row.policy} | ${f(row.tauU)} | ${f(row.thetaU)} | ${f(row.tauO)} | ${f(row.thetaO)} | ${f(row.instability)} | ${f(row.jitterPerHour)} | ${f(row.sloViolation)} | ${f(row.replicaMinutes, 0)} | ${f((100 * row.replicaMinutes) / hpa.replicaMinutes, 0)} % | ${f(row.actionsPerHour)} | ${f(row.seconds)} |`,
      );
    }
  }
  out.push('', '### Predictive against each baseline', '');
  out.push('Goal: τU at most 50 % of the baseline\'s at no more replica-minutes (per trace; geometric means over traces).', '');
  out.push('| baseline | traces meeting the goal | geomean τU ratio | geomean replica-minutes ratio |');
  out.push('|---|---|---|---|');
  for (const s of summaries) out.push(`| ${s.baseline} | ${s.met} / ${s.traces} | ${f(s.geomeanTauURatio, 2)} | ${f(s.geomeanCostRatio, 2)} |`);
  out.push('', '| trace | τU ratio vs hpa | cost vs hpa | τU ratio vs hpa-rate | cost vs hpa-rate | forecast scale-ups / low-confidence decisions |');
  out.push('|---|---|---|---|---|---|');
  const [vsHpa, vsRate] = [summaries[0]!, summaries[1]!];
  vsHpa.perTrace.forEach((c, i) => {
    const r = vsRate.perTrace[i]!;
    const use = byTrace.get(c.trace)!.get('predictive')!.forecastUse;
    const useText = use === undefined ? '' : `${use.scaleUps} / ${f((100 * use.lowConfidence) / use.decisions, 0)} %`;
    out.push(`| ${c.trace.replace(/^.*\//, '').replace(/\.csv$/, '')} | ${f(c.tauRatio, 2)} | ${f(c.costRatio, 2)} | ${f(r.tauRatio, 2)} | ${f(r.costRatio, 2)} | ${useText} |`);
  });
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
