/**
 * Per-namespace exposure rules: which queues (and resources, and queue-less anomaly scores) the
 * HPAs of a namespace may read through the external-metrics API.
 *
 * With no rules every namespace reads everything (the default, so that a first HPA works without
 * configuration). With rules, a namespace reads the union of what the rules naming it allow, and
 * nothing when no rule names it. Names are matched exactly or with `*` wildcards (any run of
 * characters); patterns are never compiled to regular expressions, so a pattern cannot be slow.
 */

/** One rule, as configured under `externalMetrics.exposure`. */
export interface ExposureRule {
  readonly namespaces: readonly string[];
  readonly queues: readonly string[];
  readonly resources: readonly string[];
  readonly systemMetrics: boolean;
}

/** What one namespace may read. */
export interface NamespaceAccess {
  /** True when the namespace may read values of this queue. */
  queue(name: string): boolean;
  /** True when the namespace may read recommended_replicas of this resource. */
  resource(name: string): boolean;
  /** True when the namespace may read anomaly scores that belong to no queue. */
  readonly systemMetrics: boolean;
}

/** True when `name` matches `pattern`, where `*` stands for any run of characters (possibly empty). */
export function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  // Greedy left-to-right placement of the middle parts is exact for `*`-only globs.
  let position = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const found = name.indexOf(part, position);
    if (found < 0 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}

const allowAll: NamespaceAccess = Object.freeze({ queue: () => true, resource: () => true, systemMetrics: true });
const allowNothing: NamespaceAccess = Object.freeze({ queue: () => false, resource: () => false, systemMetrics: false });

/** Namespaces whose access is remembered; beyond this the answer is recomputed (it is cheap). */
const accessCacheLimit = 1024;

/**
 * Compiles the rules into a lookup from namespace to {@link NamespaceAccess}. The result is a pure
 * function of the rules and the namespace.
 */
export function compileExposure(rules: readonly ExposureRule[]): (namespace: string) => NamespaceAccess {
  if (rules.length === 0) return () => allowAll;
  const cache = new Map<string, NamespaceAccess>();
  return (namespace) => {
    const cached = cache.get(namespace);
    if (cached !== undefined) return cached;
    const applicable = rules.filter((rule) => rule.namespaces.some((p) => globMatches(p, namespace)));
    const access: NamespaceAccess =
      applicable.length === 0
        ? allowNothing
        : {
            queue: (name) => applicable.some((rule) => rule.queues.some((p) => globMatches(p, name))),
            resource: (name) => applicable.some((rule) => rule.resources.some((p) => globMatches(p, name))),
            systemMetrics: applicable.some((rule) => rule.systemMetrics),
          };
    if (cache.size < accessCacheLimit) cache.set(namespace, access);
    return access;
  };
}
