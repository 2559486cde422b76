import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { Service, type ServiceOptions } from '../../src/app/index.js';
import { type Config, loadConfigFromText } from '../../src/config/index.js';
import { ManualClock } from './manual-clock.js';

/** Loads a configuration from YAML text, failing the test with the loader's own message. */
export function configFromYaml(text: string, env: Readonly<Record<string, string | undefined>> = {}): Config {
  // Tests run in parallel: the KEDA gRPC server takes a free port unless a test names one.
  // The external-metrics server (port 6443, PKI written under .foresight/) is off unless a test turns it on.
  // Learned models (LSTM training in child processes) are off unless a test sets `ml`: they would slow every test.
  // Models run on the test's event loop unless a test sets forecast.modelProcess: a child process per Service would slow every test.
  const raw = (parse(text) ?? {}) as {
    keda?: { grpc?: { port?: number } };
    externalMetrics?: { enabled?: boolean };
    ml?: unknown;
    forecast?: Record<string, unknown>;
    scaling?: Record<string, unknown>;
  };
  raw.keda = { ...raw.keda, grpc: { port: 0, ...raw.keda?.grpc } };
  raw.forecast = { modelProcess: false, ...raw.forecast };
  // Stored models and optimizer observations go to a folder of their own per configuration, so tests never see each
  // other's; it is created only by a test that writes there (most never do).
  raw.scaling = { modelPath: join(tmpdir(), `foresight-models-${randomUUID()}`), ...raw.scaling };
  if (raw.externalMetrics === undefined) raw.externalMetrics = { enabled: false };
  if (raw.ml === undefined) raw.ml = { lstm: { enabled: false } };
  const loaded = loadConfigFromText({ text: stringify(raw), file: 'test-config.yaml', env });
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
}

/**
 * A Service for tests: silent logs, a manual clock unless given (a fresh one at a fixed instant, so
 * that what the replayed demo workload shows never depends on when the suite runs), and overrides
 * as given. Only a test against a live Prometheus passes `systemClock`: Prometheus stamps its
 * samples with the wall time.
 */
export function buildService(config: Config, overrides: Partial<Omit<ServiceOptions, 'config'>> & { config?: () => Config } = {}): Service {
  return new Service({
    config: () => config,
    clock: new ManualClock(),
    logger: pino({ level: 'silent' }),
    build: { version: '0.0.0-test', revision: 'test' },
    ...overrides,
  });
}
