import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError, configSchema, describeConfigError, isConfigError, loadConfig, loadConfigFromText, type Config } from '../../../src/config/index.js';
import { isForesightError } from '../../../src/core/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);

/** Loads text as if it were the file "config.yaml"; fails the test when it does not load. */
function mustLoad(text: string, env: Readonly<Record<string, string>> = {}): Config {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (!result.ok) throw new Error(`expected the config to load, got:\n${result.error.message}`);
  return result.value;
}

/** Loads text that must be refused, and returns the error. */
function mustFail(text: string, env: Readonly<Record<string, string>> = {}): ConfigError {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error;
}

interface GoodCase {
  readonly file: string;
  readonly check: (config: Config) => void;
}

const goodCases: readonly GoodCase[] = [
  {
    file: 'empty.good.yaml',
    check: (c) => expect(c).toEqual(configSchema.parse({})),
  },
  {
    file: 'prometheus.good.yaml',
    check: (c) => {
      expect(c.server.port).toBe(8080);
      expect(c.logLevel).toBe('warn');
      expect(c.source.type).toBe('prometheus');
      expect(c.source.prometheus.url).toBe('https://mimir.monitoring.svc:8080/prometheus');
      expect(c.source.prometheus.headers).toEqual({ 'X-Scope-OrgID': 'claims' });
      expect(c.source.prometheus.timeout).toBe(30);
      expect(c.queues.map((q) => [q.name, q.threshold, q.resource])).toEqual([
        ['claims.intake', 2000, 'worker_processes'],
        ['ml_inference', 500, 'ml_workers'],
        ['nightly-batch', 5000, 'batch_processors'],
      ]);
      expect(c.queries.queue.depth).toBe('sum(claims_queue_depth{queue="{{queue}}"})');
      expect(c.queries.queue.failed_messages).toBe('');
      expect(c.forecast).toMatchObject({ model: 'seasonal_naive', step: 300, season: 604800, history: 4 * 604800, horizons: [900, 3600] });
      expect(c.scaling.monitoringInterval).toBe(60);
      expect(c.scaling.resources.worker_processes).toEqual({ min: 3, max: 40 });
      expect(c.scaling.resources.api_instances).toEqual({ min: 2, max: 10 });
      expect(c.scaling.cooldowns).toEqual({ scaleUp: 120, scaleDown: 900, emergency: 60 });
    },
  },
  {
    file: 'yaml-features.good.yaml',
    check: (c) => {
      expect(c.scaling.resources.ml_workers).toEqual({ min: 1, max: 4 });
      expect(c.scaling.resources.api_instances).toEqual({ min: 1, max: 12 });
      expect(c.scaling.monitoringInterval).toBe(15);
      expect(c.snapshot).toEqual({ maxAge: 300, historyRetention: 86400 });
      expect(c.forecast.refitInterval).toBe(1800);
    },
  },
];

interface BadCase {
  readonly file: string;
  /** Substrings the error message must contain (each names the key path and what was expected). */
  readonly messages: readonly string[];
  /** How many issues, when the count itself matters (no cascade of follow-on errors). */
  readonly issues?: number;
}

const badCases: readonly BadCase[] = [
  { file: 'unknown-top-level.bad.yaml', messages: ['unknown key "prometheus" at the top level; did you mean source.prometheus?', '(line 1, column 1)'], issues: 1 },
  { file: 'unknown-nested.bad.yaml', messages: ['unknown key "bearer_token" at source.prometheus; did you mean "bearerToken"?', '(line 5, column 5)'], issues: 1 },
  { file: 'wrong-type.bad.yaml', messages: ['queues[1].threshold: expected number, received string "lots" (line 5, column 16)'], issues: 1 },
  { file: 'bad-duration.bad.yaml', messages: ['forecast.step: expected a duration such as "30s", "15m" or "1h30m", got "5 minutes"'] },
  { file: 'min-greater-than-max.bad.yaml', messages: ['scaling.resources.worker_processes: min (30) must not be greater than max (10)'] },
  { file: 'duplicate-queue.bad.yaml', messages: ['queues[2].name: queue "validation" is listed twice (line 6, column 11)'] },
  { file: 'bad-url.bad.yaml', messages: ['source.prometheus.url: expected an http:// or https:// URL such as "http://prometheus:9090", received string "prometheus:9090"'] },
  { file: 'two-bearer-tokens.bad.yaml', messages: ['source.prometheus.bearerTokenFile: set at most one of bearerToken and bearerTokenFile'] },
  { file: 'yaml-syntax.bad.yaml', messages: ['YAML syntax error at line 5, column 1:', 'Flow sequence'] },
  { file: 'duplicate-key.bad.yaml', messages: ['YAML syntax error at line 3, column 1: Map keys must be unique'] },
  { file: 'horizon-not-multiple-of-step.bad.yaml', messages: ['forecast.horizons[1]: must be a whole number of forecast.step (1m), got 1m30s'] },
  { file: 'short-history.bad.yaml', messages: ['forecast.history: must cover at least two forecast.season cycles (2 × 7d), got 10d'] },
  { file: 'bad-queue-name.bad.yaml', messages: ['queues[0].name: expected a Kubernetes label value', 'received string "claims intake"'] },
  { file: 'yes-for-boolean.bad.yaml', messages: ['scaling.enabled: expected boolean, received string "yes"; write true or false'] },
  { file: 'quoted-number.bad.yaml', messages: ['server.port: expected number, received string "8080"; write the number without quotes'] },
  { file: 'missing-threshold.bad.yaml', messages: ['queues[0].threshold: missing (expected number)'] },
  { file: 'bad-enum.bad.yaml', messages: ['logLevel: expected one of: fatal, error, warn, info, debug, trace, silent, received string "verbose"'] },
  { file: 'top-level-list.bad.yaml', messages: ['expected a mapping of keys at the top level, received a list'] },
  { file: 'max-age-below-interval.bad.yaml', messages: ['snapshot.maxAge: must be longer than scaling.monitoringInterval (5m), got 2m'] },
  { file: 'secret-header.bad.yaml', messages: ['source.prometheus.headers.Authorization: expected string, received list'] },
  {
    file: 'many-problems.bad.yaml',
    messages: ['server.port: expected a number <= 65535, received 70000', 'unknown key "hots" at server; did you mean "host"?', 'scaling.resources.api_instances.max: expected a number > 0'],
  },
];

describe('fixtures', () => {
  test('every fixture has a row in a table', () => {
    const listed = new Set([...goodCases, ...badCases].map((c) => c.file));
    const files = readdirSync(fixtures).filter((f) => f.endsWith('.yaml'));
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
    expect([...listed].filter((f) => !files.includes(f))).toEqual([]);
  });

  for (const tc of goodCases) {
    test(`${tc.file} loads`, () => {
      const result = loadConfig({ file: fixture(tc.file), env: {} });
      if (!result.ok) throw new Error(result.error.message);
      tc.check(result.value);
    });
  }

  for (const tc of badCases) {
    test(`${tc.file} is refused with a message naming the key`, () => {
      const file = fixture(tc.file);
      const result = loadConfig({ file, env: {} });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      for (const message of tc.messages) expect(result.error.message).toContain(message);
      if (tc.issues !== undefined) expect(result.error.issues).toHaveLength(tc.issues);
      // One line per issue, each naming the file first.
      const lines = result.error.message.split('\n');
      expect(lines).toHaveLength(result.error.issues.length);
      for (const line of lines) expect(line.startsWith(`${file}: `)).toBe(true);
      // Credentials in a refused file are never echoed.
      expect(result.error.message).not.toContain('s3cr3t-value');
    });
  }
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-config-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('no file means every default', () => {
    const result = loadConfig({ env: {} });
    expect(result.ok && result.value).toEqual(configSchema.parse({}));
  });

  test('a missing file is an error naming the file', () => {
    const file = join(dir, 'absent.yaml');
    const result = loadConfig({ file, env: {} });
    expect(!result.ok && result.error.message).toBe(`${file}: cannot read the file: it does not exist`);
    expect(!result.ok && result.error.issues[0]?.code).toBe('file_unreadable');
  });

  test('a folder given as the file is an error', () => {
    const result = loadConfig({ file: dir, env: {} });
    expect(!result.ok && result.error.message).toBe(`${dir}: cannot read the file: it is a folder`);
  });

  test('reads the file it is given', () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'server:\n  port: 9123\n');
    const result = loadConfig({ file, env: {} });
    expect(result.ok && result.value.server.port).toBe(9123);
  });

  test('the result is deep-frozen', () => {
    const config = mustLoad('queues: [{name: a, threshold: 1}]\n');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queues)).toBe(true);
    expect(Object.isFrozen(config.queues[0])).toBe(true);
    expect(Object.isFrozen(config.scaling.resources.worker_processes)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  test('freezing does not freeze the schema defaults for later parses', () => {
    mustLoad('');
    const parsed = configSchema.parse({});
    expect(Object.isFrozen(parsed.queues)).toBe(false);
    expect(Object.isFrozen(parsed.queues[0])).toBe(false);
  });

  test('a key with no value means its default', () => {
    const config = mustLoad('scaling:\n  # everything commented out\nserver:\n  host:\n');
    expect(config.scaling).toEqual(configSchema.parse({}).scaling);
    expect(config.server.host).toBe('0.0.0.0');
  });

  test('an alias without its anchor is a YAML error', () => {
    const error = mustFail('server: *nowhere\n');
    expect(error.issues[0]?.code).toBe('yaml_syntax');
    expect(error.message).toContain('config.yaml: YAML error');
  });

  test('an unknown YAML tag is refused', () => {
    expect(mustFail('logLevel: !!foo info\n').message).toContain('config.yaml: YAML syntax error at line 1, column 11');
  });

  test('a tab used for indentation names line and column', () => {
    expect(mustFail('server:\n\tport: 1\n').message).toContain('config.yaml: YAML syntax error at line 2, column 1');
  });

  test('a key in an unexpected place points at its line', () => {
    const error = mustFail('server:\n  port: 8000\nscaling:\n  cooldowns:\n    scaleUpp: 1m\n');
    expect(error.issues).toEqual([
      {
        code: 'unknown_key',
        path: 'scaling.cooldowns.scaleUpp',
        message: 'unknown key "scaleUpp" at scaling.cooldowns; did you mean "scaleUp"?',
        source: 'config.yaml',
        line: 5,
        column: 5,
      },
    ]);
  });

  test('unusual key names are quoted in paths', () => {
    const error = mustFail('source:\n  prometheus:\n    headers:\n      X-Scope-OrgID: 42\n');
    expect(error.issues[0]?.path).toBe('source.prometheus.headers["X-Scope-OrgID"]');
  });

  test('a wrong type on a secret does not echo the value', () => {
    const error = mustFail('source:\n  prometheus:\n    bearerToken: 123456789\n');
    expect(error.message).toBe('config.yaml: source.prometheus.bearerToken: expected string, received number (line 3, column 18)');
  });

  test('issues are listed in file order', () => {
    const error = mustFail('logLevel: loud\nserver:\n  port: -1\nfoo: 1\n');
    expect(error.issues.map((i) => i.line)).toEqual([1, 3, 4]);
  });

  test('duplicate horizons are refused', () => {
    expect(mustFail('forecast:\n  horizons: [15m, 900]\n').message).toContain('forecast.horizons[1]: horizon 15m is listed twice');
  });

  test('a zero duration is refused', () => {
    expect(mustFail('forecast:\n  step: 0s\n').message).toContain('forecast.step: expected a duration greater than zero, got "0s"');
  });

  test('a duration of the wrong type says what a duration is', () => {
    expect(mustFail('forecast:\n  step: [1m]\n').message).toContain('forecast.step: expected a duration such as "30s", "15m" or "1h30m", or a number of seconds, received list');
  });

  test('basic auth and a bearer token together are refused', () => {
    expect(mustFail('source:\n  prometheus:\n    bearerToken: t\n    basicAuth: {username: u}\n').message).toContain('source.prometheus.basicAuth: set at most one of basicAuth and a bearer token');
  });
});

describe('ConfigError', () => {
  test('is a ForesightError with the config code and the issues as data', () => {
    const error = mustFail('server:\n  port: abc\n');
    expect(error).toBeInstanceOf(ConfigError);
    expect(isForesightError(error)).toBe(true);
    expect(isConfigError(error)).toBe(true);
    expect(isConfigError(new Error('x'))).toBe(false);
    expect(error.code).toBe('FORESIGHT_ERR_CONFIG_INVALID');
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toEqual([{ code: 'invalid_value', path: 'server.port', message: 'expected number, received string "abc"', source: 'config.yaml', line: 2, column: 9 }]);
  });

  test('describeConfigError reports every issue under a heading', () => {
    const error = mustFail('server:\n  port: abc\nfoo: 1\n');
    expect(describeConfigError(error)).toBe(
      [
        'the configuration is invalid (2 problems):',
        '  config.yaml: server.port: expected number, received string "abc" (line 2, column 9)',
        '  config.yaml: unknown key "foo" at the top level (line 3, column 1)',
        'Every key and environment variable is described in docs/configuration.md.',
      ].join('\n'),
    );
  });
});
