import { err, ok, type Result } from '../core/index.js';
import { environmentSource, maskUrlPassword, type ConfigIssue } from './config-error.js';

/** One environment variable Foresight reads, for documentation and tests. */
export interface EnvironmentVariable {
  /** The variable's name, e.g. `SCALING_WORKER_MAX`. */
  readonly name: string;
  /** The dotted config keys it sets (PROMETHEUS_URL sets two). */
  readonly configPaths: readonly string[];
  /** What text it accepts, and in which unit. */
  readonly accepts: string;
  /** What it means. */
  readonly meaning: string;
}

/** One value an environment variable writes into the raw configuration. */
interface Assignment {
  readonly path: readonly string[];
  readonly value: unknown;
}

interface VariableSpec extends EnvironmentVariable {
  /** Turns the variable's text into assignments, or says what was expected. */
  readonly parse: (text: string) => Result<readonly Assignment[], string>;
}

const split = (path: string): readonly string[] => path.split('.');

// Strict decimal numbers only: Number() would also take "0x10", "Infinity" and "1_0"-free oddities.
const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const trueWords = new Set(['true', '1', 'yes']);
const falseWords = new Set(['false', '0', 'no']);

function booleanVariable(name: string, path: string, meaning: string): VariableSpec {
  return {
    name,
    configPaths: [path],
    accepts: 'true/false, 1/0 or yes/no (any case)',
    meaning,
    parse: (text) => {
      const word = text.toLowerCase();
      if (trueWords.has(word)) return ok([{ path: split(path), value: true }]);
      if (falseWords.has(word)) return ok([{ path: split(path), value: false }]);
      return err('expected true or false (or 1/0, yes/no)');
    },
  };
}

interface NumberOptions {
  /** Multiplier from the variable's unit to the config's unit (minutes → seconds is 60). */
  readonly scale?: number;
  readonly integer?: boolean;
  /** The unit, as written in messages and the table ("minutes"). */
  readonly unit?: string;
  /** Wraps the value, e.g. into a one-element list. */
  readonly wrap?: (value: number) => unknown;
}

function numberVariable(name: string, path: string, meaning: string, options: NumberOptions = {}): VariableSpec {
  const { scale = 1, integer = false, unit, wrap = (value: number) => value } = options;
  return {
    name,
    configPaths: [path],
    accepts: integer ? 'a whole number' : unit === undefined ? 'a number' : `a number of ${unit}`,
    meaning,
    parse: (text) => {
      if (!decimalPattern.test(text)) return err(unit === undefined ? 'expected a number' : `expected a number of ${unit}`);
      const parsed = Number(text);
      if (integer && !Number.isInteger(parsed)) return err('expected a whole number');
      // Round to the millisecond: 0.1 minutes is 6 s, not 6.000000000000001 s, which would fail "multiple of step" checks.
      const value = scale === 1 ? parsed : Math.round(parsed * scale * 1000) / 1000;
      return ok([{ path: split(path), value: wrap(value) }]);
    },
  };
}

function stringVariable(name: string, path: string, meaning: string, accepts: string, options: { readonly lowerCase?: boolean } = {}): VariableSpec {
  return {
    name,
    configPaths: [path],
    accepts,
    meaning,
    parse: (text) => ok([{ path: split(path), value: options.lowerCase === true ? text.toLowerCase() : text }]),
  };
}

const minutes = { scale: 60, unit: 'minutes' } as const;

/**
 * Every environment variable, in the order they are applied (a later one wins when two set the
 * same key: FORESIGHT_SOURCE comes after PROMETHEUS_URL so that it can still choose the replay).
 */
const specs: readonly VariableSpec[] = [
  booleanVariable('SCALING_ENABLED', 'scaling.enabled', 'Master switch for scaling recommendations.'),
  booleanVariable('SCALING_ML_PREDICTION_ENABLED', 'scaling.mlPredictionEnabled', 'Use forecasts in scaling decisions.'),
  booleanVariable('SCALING_ANOMALY_DETECTION_ENABLED', 'scaling.anomalyDetectionEnabled', 'Score anomalies.'),
  numberVariable('SCALING_MONITORING_INTERVAL_SECONDS', 'scaling.monitoringInterval', 'Time between reconcile cycles.', { unit: 'seconds' }),
  stringVariable('SCALING_ML_MODEL_PATH', 'scaling.modelPath', 'Folder for trained models.', 'a folder path'),
  numberVariable('SCALING_PREDICTION_HORIZON_MINUTES', 'forecast.horizons', 'Forecast horizon; replaces the list of horizons with this one.', {
    ...minutes,
    wrap: (seconds) => [seconds],
  }),
  numberVariable('SCALING_PREDICTION_CONFIDENCE_THRESHOLD', 'scaling.predictionConfidenceThreshold', 'Forecasts with less confidence (0–1) are not acted on.'),
  numberVariable('SCALING_MODEL_RETRAIN_HOURS', 'scaling.modelRetrainInterval', 'How often learned models are retrained.', { scale: 3600, unit: 'hours' }),
  numberVariable('SCALING_WORKER_MIN', 'scaling.resources.worker_processes.min', 'Fewest queue workers.', { integer: true }),
  numberVariable('SCALING_WORKER_MAX', 'scaling.resources.worker_processes.max', 'Most queue workers.', { integer: true }),
  numberVariable('SCALING_API_MIN', 'scaling.resources.api_instances.min', 'Fewest API servers.', { integer: true }),
  numberVariable('SCALING_API_MAX', 'scaling.resources.api_instances.max', 'Most API servers.', { integer: true }),
  numberVariable('SCALING_BATCH_MIN', 'scaling.resources.batch_processors.min', 'Fewest batch processors.', { integer: true }),
  numberVariable('SCALING_BATCH_MAX', 'scaling.resources.batch_processors.max', 'Most batch processors.', { integer: true }),
  numberVariable('SCALING_COOLDOWN_SCALE_UP_MINUTES', 'scaling.cooldowns.scaleUp', 'Least time between two scale-ups of a resource.', minutes),
  numberVariable('SCALING_COOLDOWN_SCALE_DOWN_MINUTES', 'scaling.cooldowns.scaleDown', 'Least time after any scaling before a scale-down.', minutes),
  numberVariable('SCALING_COOLDOWN_EMERGENCY_MINUTES', 'scaling.cooldowns.emergency', 'Least time between emergency scale-ups.', minutes),
  numberVariable('PORT', 'server.port', 'HTTP port of /scaling/*, /metrics, health and the web view.', { integer: true }),
  stringVariable('LOG_LEVEL', 'logLevel', 'Log level.', 'fatal, error, warn, info, debug, trace or silent (any case)', { lowerCase: true }),
  {
    name: 'PROMETHEUS_URL',
    configPaths: ['source.prometheus.url', 'source.type'],
    accepts: 'an http:// or https:// URL',
    meaning: 'Base URL of the Prometheus API; also sets source.type to prometheus.',
    parse: (text) =>
      ok([
        { path: split('source.prometheus.url'), value: text },
        { path: split('source.type'), value: 'prometheus' },
      ]),
  },
  {
    name: 'SCALING_SHARD_INDEX',
    configPaths: ['sharding.index'],
    accepts: 'a whole number, or a StatefulSet pod name ending in its ordinal ("foresight-2")',
    meaning: "This replica's shard when sharding.replicas is above 1 (the chart passes the pod name).",
    parse: (text) => {
      // A StatefulSet names its pods <name>-<ordinal>; the ordinal is the shard.
      const ordinal = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?-)?(\d{1,6})$/.exec(text)?.[2];
      return ordinal === undefined ? err('expected a whole number or a StatefulSet pod name such as "foresight-2"') : ok([{ path: split('sharding.index'), value: Number(ordinal) }]);
    },
  },
  stringVariable('FORESIGHT_SOURCE', 'source.type', 'Where inputs come from (wins over the source.type that PROMETHEUS_URL implies).', 'replay or prometheus (any case)', {
    lowerCase: true,
  }),
];

/**
 * The environment variables that override the configuration file: name, the keys each sets,
 * what it accepts and what it means. The same table drives the loader, the tests and the docs.
 */
export const environmentVariables: readonly EnvironmentVariable[] = Object.freeze(
  specs.map(({ name, configPaths, accepts, meaning }) => Object.freeze({ name, configPaths: Object.freeze([...configPaths]), accepts, meaning })),
);

/** An environment variable that was applied: which variable, its text, and the key it set. */
export interface AppliedOverride {
  readonly variable: string;
  readonly value: string;
  /** The config path it set, as segments. */
  readonly path: readonly string[];
  /** The variable's primary config path, dotted (as in {@link EnvironmentVariable.configPaths}). */
  readonly variablePath: string;
}

/** The raw configuration with the environment applied, and what was applied or refused. */
export interface EnvironmentResult {
  /** A copy of the raw input with every valid variable written in; the input itself is untouched. */
  readonly input: Readonly<Record<string, unknown>>;
  /** Every key that a variable set, to attribute validation errors to the variable. */
  readonly applied: readonly AppliedOverride[];
  /** Variables whose text does not parse; each names the variable and its value. */
  readonly issues: readonly ConfigIssue[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Writes `value` at `path` into a copy-on-write clone of `root`. Returns false, leaving `root` as
 * it is, when a key on the way holds something other than a section: the schema then reports the
 * file's value, which is the real mistake.
 */
function assign(root: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (isPlainObject(next)) node[key] = { ...next };
    else return false;
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return true;
}

/**
 * Applies the environment variables of {@link environmentVariables} to the raw (not yet validated)
 * configuration, so that the schema's checks apply to environment values too. An unset or empty
 * variable is ignored (Kubernetes and Compose files often write `NAME=` for "not set").
 */
export function applyEnvironment(raw: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): EnvironmentResult {
  const input: Record<string, unknown> = { ...raw };
  const applied: AppliedOverride[] = [];
  const issues: ConfigIssue[] = [];
  for (const spec of specs) {
    const text = env[spec.name]?.trim();
    if (text === undefined || text === '') continue;
    const variablePath = spec.configPaths[0]!;
    const parsed = spec.parse(text);
    if (!parsed.ok) {
      issues.push({
        code: 'invalid_environment',
        path: variablePath,
        message: parsed.error,
        source: environmentSource,
        variable: spec.name,
        value: maskUrlPassword(text),
        variablePath,
      });
      continue;
    }
    for (const assignment of parsed.value) {
      if (!assign(input, assignment.path, assignment.value)) continue;
      // A later variable that sets the same key replaces the earlier one, in the result and in the blame.
      const dotted = assignment.path.join('.');
      const earlier = applied.findIndex((a) => a.path.join('.') === dotted);
      if (earlier >= 0) applied.splice(earlier, 1);
      applied.push({ variable: spec.name, value: text, path: assignment.path, variablePath });
    }
  }
  return { input, applied, issues };
}
