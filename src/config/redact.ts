import type { Config } from './schema.js';

/**
 * The configuration keys that hold credentials, as dotted paths (`*` is any one key). Use them for
 * pino's `redact` option (prefixed by where the config sits in the log object) and wherever a
 * configuration is shown. Error messages never echo these values.
 */
export const secretConfigPaths: readonly string[] = Object.freeze([
  'source.prometheus.bearerToken',
  'source.prometheus.basicAuth.password',
  // Header values often carry tokens (Authorization, API keys); all of them are treated as secret.
  'source.prometheus.headers.*',
]);

/** The text that replaces a secret. */
export const redacted = '<redacted>';

/** True when the dotted key path holds a credential (see {@link secretConfigPaths}). */
export function isSecretConfigPath(path: readonly PropertyKey[]): boolean {
  return secretConfigPaths.some((pattern) => {
    const parts = pattern.split('.');
    // A path inside a secret (one more level) counts too: a list where a token should be is still a token.
    if (path.length < parts.length) return false;
    return parts.every((part, index) => part === '*' || part === String(path[index]));
  });
}

/**
 * A copy of the configuration with every credential replaced by "<redacted>", for /debug views
 * and logs. Unset credentials stay unset, so the view still shows which kind of auth is used.
 */
export function redactConfig(config: Config): Config {
  const { bearerToken, basicAuth, headers, ...rest } = config.source.prometheus;
  const prometheus = {
    ...rest,
    headers: Object.fromEntries(Object.keys(headers).map((name) => [name, redacted])),
    ...(bearerToken === undefined ? {} : { bearerToken: redacted }),
    ...(basicAuth === undefined ? {} : { basicAuth: { ...basicAuth, ...(basicAuth.password === undefined ? {} : { password: redacted }) } }),
  };
  return { ...config, source: { ...config.source, prometheus } };
}
