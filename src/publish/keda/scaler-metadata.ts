import { err, formatDuration, ok, type Result } from '../../core/index.js';
import { type ForecastQuantile, type ForecastSelection, type KedaProblem, parseQuantile, parseSelection, quoteForMessage, type SelectionDefaults } from './forecast-selection.js';

/** The trigger metadata keys Foresight reads; each may also be given as `<key>FromEnv`. */
export const scalerMetadataKeys = ['queue', 'horizon', 'quantile', 'targetValue', 'activationThreshold', 'activationQuantile', 'metricName'] as const;

/**
 * Keys KEDA itself reads from the metadata of an external trigger (it passes the whole map on).
 * They are accepted and ignored; any other unknown key is refused, so that a misspelt `horizon`
 * cannot silently fall back to the default. `tlsCertFile` is the deprecated client certificate
 * path of older KEDA releases.
 */
export const kedaOwnMetadataKeys = ['scalerAddress', 'enableTLS', 'unsafeSsl', 'tlsCertFile'] as const;

/**
 * KEDA's TLS authentication parameters. KEDA reads them only from a TriggerAuthentication (its
 * `authParams`), never from the trigger metadata, where they would be silently ignored and the
 * connection left without them: refused with a message that says where they go.
 */
export const kedaAuthParameterKeys = ['caCert', 'tlsClientCert', 'tlsClientKey'] as const;

/** What an external trigger asks Foresight for, parsed from its metadata. */
export interface ScalerRequest {
  /** The forecast served as the metric value. */
  readonly selection: ForecastSelection;
  /** Per-replica target for the HPA (`targetValue`); required by GetMetricSpec only. */
  readonly targetValue: number | undefined;
  /** The workload is active while the forecast (or the current depth) is above this (default 0). */
  readonly activationThreshold: number;
  /** The quantile compared with the threshold (default 0.9: wake up for the bad case). */
  readonly activationQuantile: ForecastQuantile;
  /** The metric name reported to KEDA. */
  readonly metricName: string;
}

/** The name Foresight gives the metric when the trigger does not: "foresight-orders-15m-p90". */
export function defaultMetricName(selection: ForecastSelection): string {
  const percent = Math.round(Number(selection.quantile) * 100);
  // KEDA builds HPA metric names from it ("s0-…"), which end up in URL paths: keep to [a-z0-9-].
  const queue = selection.queue.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `foresight-${queue}-${formatDuration(selection.horizonSeconds)}-p${percent}`;
}

const metricNamePattern = /^[a-z0-9]([-a-z0-9.]{0,198}[a-z0-9])?$/;
const numberPattern = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseNonNegative(raw: string, key: string): Result<number, KedaProblem> {
  const value = Number(raw);
  if (!numberPattern.test(raw.trim()) || !Number.isFinite(value)) {
    return err({ kind: 'invalid_argument', message: `metadata.${key} must be a number, got ${quoteForMessage(raw)}` });
  }
  return ok(value);
}

/**
 * Parses a trigger's `scalerMetadata`. A key ending in `FromEnv` (KEDA resolves it from the target
 * pod's environment and keeps the key name) stands for the key without the suffix; giving both is
 * an error.
 */
export function parseScalerMetadata(metadata: Readonly<Record<string, string>>, defaults: SelectionDefaults): Result<ScalerRequest, KedaProblem> {
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(metadata)) {
    if ((kedaOwnMetadataKeys as readonly string[]).includes(key)) continue;
    if ((kedaAuthParameterKeys as readonly string[]).includes(key)) {
      return err({
        kind: 'invalid_argument',
        message: `metadata.${key} is ignored by KEDA in trigger metadata: give ${kedaAuthParameterKeys.join(', ')} through a TriggerAuthentication (authenticationRef), see docs/keda.md`,
      });
    }
    const base = key.endsWith('FromEnv') ? key.slice(0, -'FromEnv'.length) : key;
    if (!(scalerMetadataKeys as readonly string[]).includes(base)) {
      return err({
        kind: 'invalid_argument',
        message: `unknown trigger metadata key ${quoteForMessage(key)}; Foresight reads ${scalerMetadataKeys.join(', ')} (each also as <key>FromEnv)`,
      });
    }
    if (values.has(base)) return err({ kind: 'invalid_argument', message: `metadata.${base} is given twice (as ${base} and ${base}FromEnv)` });
    values.set(base, value);
  }
  const selection = parseSelection({ queue: values.get('queue'), horizon: values.get('horizon'), quantile: values.get('quantile') }, defaults, {
    queue: 'metadata.queue',
    horizon: 'metadata.horizon',
    quantile: 'metadata.quantile',
  });
  if (!selection.ok) return selection;

  let targetValue: number | undefined;
  const rawTarget = values.get('targetValue');
  if (rawTarget !== undefined) {
    const parsed = parseNonNegative(rawTarget, 'targetValue');
    if (!parsed.ok) return parsed;
    if (parsed.value <= 0) return err({ kind: 'invalid_argument', message: `metadata.targetValue must be greater than 0, got ${quoteForMessage(rawTarget)}` });
    targetValue = parsed.value;
  }
  let activationThreshold = 0;
  const rawThreshold = values.get('activationThreshold');
  if (rawThreshold !== undefined) {
    const parsed = parseNonNegative(rawThreshold, 'activationThreshold');
    if (!parsed.ok) return parsed;
    activationThreshold = parsed.value;
  }
  let activationQuantile: ForecastQuantile = '0.9';
  const rawActivationQuantile = values.get('activationQuantile');
  if (rawActivationQuantile !== undefined) {
    const parsed = parseQuantile(rawActivationQuantile);
    if (parsed === undefined) {
      return err({ kind: 'invalid_argument', message: `metadata.activationQuantile must be one of 0.1, 0.5, 0.9, got ${quoteForMessage(rawActivationQuantile)}` });
    }
    activationQuantile = parsed;
  }
  const metricName = values.get('metricName') ?? defaultMetricName(selection.value);
  if (!metricNamePattern.test(metricName)) {
    return err({
      kind: 'invalid_argument',
      message: `metadata.metricName must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, got ${quoteForMessage(metricName)}`,
    });
  }
  return ok({ selection: selection.value, targetValue, activationThreshold, activationQuantile, metricName });
}
