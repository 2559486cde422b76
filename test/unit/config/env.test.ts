import { describe, expect, test } from 'vitest';
import { applyEnvironment, environmentVariables, loadConfigFromText, type Config } from '../../../src/config/index.js';

/** Loads `text` (default: no file content) with `env` applied; fails the test when it does not load. */
function load(env: Readonly<Record<string, string>>, text = ''): Config {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (!result.ok) throw new Error(`expected the config to load, got:\n${result.error.message}`);
  return result.value;
}

/** The error message for an environment that must be refused. */
function refusal(env: Readonly<Record<string, string>>, text = ''): string {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error.message;
}

interface AppliedCase {
  readonly name: string;
  readonly value: string;
  readonly read: (config: Config) => unknown;
  readonly expected: unknown;
}

/** One row per variable of the design (the first test checks that none is missing). */
const applied: readonly AppliedCase[] = [
  { name: 'SCALING_ENABLED', value: 'false', read: (c) => c.scaling.enabled, expected: false },
  { name: 'SCALING_ML_PREDICTION_ENABLED', value: 'no', read: (c) => c.scaling.mlPredictionEnabled, expected: false },
  { name: 'SCALING_ANOMALY_DETECTION_ENABLED', value: '0', read: (c) => c.scaling.anomalyDetectionEnabled, expected: false },
  { name: 'SCALING_MONITORING_INTERVAL_SECONDS', value: '45', read: (c) => c.scaling.monitoringInterval, expected: 45 },
  { name: 'SCALING_ML_MODEL_PATH', value: '/var/lib/foresight/models', read: (c) => c.scaling.modelPath, expected: '/var/lib/foresight/models' },
  { name: 'SCALING_PREDICTION_HORIZON_MINUTES', value: '30', read: (c) => c.forecast.horizons, expected: [1800] },
  { name: 'SCALING_PREDICTION_CONFIDENCE_THRESHOLD', value: '0.85', read: (c) => c.scaling.predictionConfidenceThreshold, expected: 0.85 },
  { name: 'SCALING_MODEL_RETRAIN_HOURS', value: '6', read: (c) => c.scaling.modelRetrainInterval, expected: 21600 },
  { name: 'SCALING_WORKER_MIN', value: '4', read: (c) => c.scaling.resources.worker_processes.min, expected: 4 },
  { name: 'SCALING_WORKER_MAX', value: '50', read: (c) => c.scaling.resources.worker_processes.max, expected: 50 },
  { name: 'SCALING_API_MIN', value: '3', read: (c) => c.scaling.resources.api_instances.min, expected: 3 },
  { name: 'SCALING_API_MAX', value: '12', read: (c) => c.scaling.resources.api_instances.max, expected: 12 },
  { name: 'SCALING_BATCH_MIN', value: '0', read: (c) => c.scaling.resources.batch_processors.min, expected: 0 },
  { name: 'SCALING_BATCH_MAX', value: '16', read: (c) => c.scaling.resources.batch_processors.max, expected: 16 },
  { name: 'SCALING_SHARD_INDEX', value: 'foresight-0', read: (c) => c.sharding.index, expected: 0 },
  { name: 'SCALING_COOLDOWN_SCALE_UP_MINUTES', value: '5', read: (c) => c.scaling.cooldowns.scaleUp, expected: 300 },
  { name: 'SCALING_COOLDOWN_SCALE_DOWN_MINUTES', value: '20', read: (c) => c.scaling.cooldowns.scaleDown, expected: 1200 },
  { name: 'SCALING_COOLDOWN_EMERGENCY_MINUTES', value: '0.5', read: (c) => c.scaling.cooldowns.emergency, expected: 30 },
  { name: 'PORT', value: '9000', read: (c) => c.server.port, expected: 9000 },
  { name: 'LOG_LEVEL', value: 'DEBUG', read: (c) => c.logLevel, expected: 'debug' },
  {
    name: 'PROMETHEUS_URL',
    value: 'http://prometheus.monitoring:9090',
    read: (c) => [c.source.type, c.source.prometheus.url],
    expected: ['prometheus', 'http://prometheus.monitoring:9090'],
  },
  { name: 'FORESIGHT_SOURCE', value: 'Prometheus', read: (c) => c.source.type, expected: 'prometheus' },
];

describe('environment variables', () => {
  test('the table lists every variable the loader reads, and the tests cover each', () => {
    expect(applied.map((a) => a.name).sort()).toEqual(environmentVariables.map((v) => v.name).sort());
    for (const v of environmentVariables) {
      expect(v.meaning).not.toBe('');
      expect(v.configPaths.length).toBeGreaterThan(0);
    }
  });

  for (const tc of applied) {
    test(`${tc.name}=${tc.value} is applied`, () => {
      expect(tc.read(load({ [tc.name]: tc.value }))).toEqual(tc.expected);
    });
  }

  test('a variable wins over the file', () => {
    const config = load({ PORT: '9000', SCALING_WORKER_MAX: '30' }, 'server:\n  port: 8080\nscaling:\n  resources:\n    worker_processes: {min: 5, max: 10}\n');
    expect(config.server.port).toBe(9000);
    expect(config.scaling.resources.worker_processes).toEqual({ min: 5, max: 30 });
  });

  test('keys the variables do not touch keep their file values', () => {
    const config = load({ SCALING_WORKER_MAX: '30' }, 'scaling:\n  enabled: false\n');
    expect(config.scaling.enabled).toBe(false);
  });

  test.each(['TRUE', 'True', 'yes', 'YES', '1'])('boolean %s means true', (value) => {
    expect(load({ SCALING_ENABLED: value }, 'scaling:\n  enabled: false\n').scaling.enabled).toBe(true);
  });

  test.each(['FALSE', 'No', '0'])('boolean %s means false', (value) => {
    expect(load({ SCALING_ENABLED: value }).scaling.enabled).toBe(false);
  });

  test('an empty or blank variable is not set', () => {
    expect(load({ PORT: '', SCALING_ENABLED: '  ' }, 'server:\n  port: 8080\n').server.port).toBe(8080);
  });

  test('surrounding spaces are ignored', () => {
    expect(load({ PORT: ' 9000 ' }).server.port).toBe(9000);
  });

  test('FORESIGHT_SOURCE wins over the source type PROMETHEUS_URL implies', () => {
    const config = load({ PROMETHEUS_URL: 'http://prometheus:9090', FORESIGHT_SOURCE: 'replay' });
    expect(config.source.type).toBe('replay');
    expect(config.source.prometheus.url).toBe('http://prometheus:9090');
  });

  test('a fraction of a minute becomes whole seconds without rounding noise', () => {
    expect(load({ SCALING_PREDICTION_HORIZON_MINUTES: '0.1' }, 'forecast:\n  step: 6s\n').forecast.horizons).toEqual([6]);
  });

  test('the horizon replaces the whole list of horizons from the file', () => {
    expect(load({ SCALING_PREDICTION_HORIZON_MINUTES: '60' }, 'forecast:\n  horizons: [15m, 30m]\n').forecast.horizons).toEqual([3600]);
  });

  test('a variable under a file section that is not a mapping leaves the file error to report', () => {
    const message = refusal({ SCALING_ENABLED: 'true' }, 'scaling: 5\n');
    expect(message).toBe('config.yaml: scaling: expected mapping, received number 5 (line 1, column 10)');
  });

  test('applyEnvironment leaves its input untouched', () => {
    const raw = { scaling: { resources: { worker_processes: { min: 1 } } } };
    const result = applyEnvironment(raw, { SCALING_WORKER_MAX: '9' });
    expect(raw).toEqual({ scaling: { resources: { worker_processes: { min: 1 } } } });
    expect(result.input).toEqual({ scaling: { resources: { worker_processes: { min: 1, max: 9 } } } });
    expect(result.applied).toEqual([{ variable: 'SCALING_WORKER_MAX', value: '9', path: ['scaling', 'resources', 'worker_processes', 'max'], variablePath: 'scaling.resources.worker_processes.max' }]);
  });
});

interface BadCase {
  readonly env: Readonly<Record<string, string>>;
  readonly file?: string;
  /** The whole line the variable produces. */
  readonly message: string;
}

const bad: readonly BadCase[] = [
  { env: { SCALING_WORKER_MAX: 'abc' }, message: 'environment SCALING_WORKER_MAX=abc: expected a number' },
  { env: { SCALING_API_MIN: '2.5' }, message: 'environment SCALING_API_MIN=2.5: expected a whole number' },
  { env: { SCALING_ENABLED: 'maybe' }, message: 'environment SCALING_ENABLED=maybe: expected true or false (or 1/0, yes/no)' },
  { env: { SCALING_ML_PREDICTION_ENABLED: 'on' }, message: 'environment SCALING_ML_PREDICTION_ENABLED=on: expected true or false (or 1/0, yes/no)' },
  { env: { SCALING_MONITORING_INTERVAL_SECONDS: '30s' }, message: 'environment SCALING_MONITORING_INTERVAL_SECONDS=30s: expected a number of seconds' },
  { env: { SCALING_PREDICTION_HORIZON_MINUTES: '0x10' }, message: 'environment SCALING_PREDICTION_HORIZON_MINUTES=0x10: expected a number of minutes' },
  { env: { SCALING_MODEL_RETRAIN_HOURS: 'Infinity' }, message: 'environment SCALING_MODEL_RETRAIN_HOURS=Infinity: expected a number of hours' },
  { env: { PORT: '70000' }, message: 'environment PORT=70000: expected a number <= 65535, received 70000' },
  { env: { PORT: 'http' }, message: 'environment PORT=http: expected a number' },
  { env: { LOG_LEVEL: 'loud' }, message: 'environment LOG_LEVEL=loud: expected one of: fatal, error, warn, info, debug, trace, silent, received string "loud"' },
  { env: { FORESIGHT_SOURCE: 'kafka' }, message: 'environment FORESIGHT_SOURCE=kafka: expected one of: replay, prometheus, received string "kafka"' },
  {
    env: { PROMETHEUS_URL: 'prometheus:9090' },
    message: 'environment PROMETHEUS_URL=prometheus:9090: expected an http:// or https:// URL such as "http://prometheus:9090", received string "prometheus:9090"',
  },
  {
    env: { SCALING_PREDICTION_CONFIDENCE_THRESHOLD: '70' },
    message: 'environment SCALING_PREDICTION_CONFIDENCE_THRESHOLD=70: expected a number <= 1, received 70',
  },
  { env: { SCALING_COOLDOWN_SCALE_UP_MINUTES: '0' }, message: 'environment SCALING_COOLDOWN_SCALE_UP_MINUTES=0: expected a number > 0, received 0' },
  {
    env: { SCALING_WORKER_MIN: '30' },
    message: 'environment SCALING_WORKER_MIN=30: scaling.resources.worker_processes: min (30) must not be greater than max (20)',
  },
  {
    env: { SCALING_WORKER_MAX: '3' },
    file: 'scaling:\n  resources:\n    worker_processes:\n      min: 5\n',
    message: 'environment SCALING_WORKER_MAX=3: scaling.resources.worker_processes: min (5) must not be greater than max (3)',
  },
  {
    env: { SCALING_PREDICTION_HORIZON_MINUTES: '2.5' },
    file: 'forecast:\n  step: 1m\n',
    message: 'environment SCALING_PREDICTION_HORIZON_MINUTES=2.5: forecast.horizons[0]: must be a whole number of forecast.step (1m), got 2m30s',
  },
  {
    env: { SCALING_MONITORING_INTERVAL_SECONDS: '600' },
    message: 'environment SCALING_MONITORING_INTERVAL_SECONDS=600: snapshot.maxAge: must be longer than scaling.monitoringInterval (10m), got 5m',
  },
];

describe('bad environment values', () => {
  for (const tc of bad) {
    test(`${Object.entries(tc.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} is refused, naming the variable`, () => {
      expect(refusal(tc.env, tc.file).split('\n')).toContain(tc.message);
    });
  }

  test('every bad variable is reported at once, after the file problems, in table order', () => {
    const message = refusal({ PORT: 'x', SCALING_ENABLED: 'maybe', SCALING_WORKER_MAX: 'abc' }, 'logLevel: loud\n');
    expect(message.split('\n')).toEqual([
      'config.yaml: logLevel: expected one of: fatal, error, warn, info, debug, trace, silent, received string "loud" (line 1, column 11)',
      'environment SCALING_ENABLED=maybe: expected true or false (or 1/0, yes/no)',
      'environment SCALING_WORKER_MAX=abc: expected a number',
      'environment PORT=x: expected a number',
    ]);
  });

  test('the password of a URL is not echoed', () => {
    const message = refusal({ PROMETHEUS_URL: 'ftp://admin:hunter2@prometheus:9090' });
    expect(message).toContain('environment PROMETHEUS_URL=ftp://admin:<redacted>@prometheus:9090: expected an http:// or https:// URL');
    expect(message).not.toContain('hunter2');
  });

  test('an issue the variable did not cause still names the file', () => {
    const message = refusal({ PORT: '9000' }, 'server:\n  host: 5\n');
    expect(message).toBe('config.yaml: server.host: expected string, received number 5 (line 2, column 9)');
  });

  test('environment issues carry the variable as data', () => {
    const result = loadConfigFromText({ text: '', env: { SCALING_WORKER_MAX: 'abc' } });
    expect(!result.ok && result.error.issues).toEqual([
      {
        code: 'invalid_environment',
        path: 'scaling.resources.worker_processes.max',
        message: 'expected a number',
        source: 'environment',
        variable: 'SCALING_WORKER_MAX',
        value: 'abc',
        variablePath: 'scaling.resources.worker_processes.max',
      },
    ]);
  });
});
