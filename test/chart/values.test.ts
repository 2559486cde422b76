/**
 * values.yaml and values.schema.json: the defaults and every ci/*-values.yaml satisfy the schema
 * (as `helm install` checks), mistakes are refused, and every key is documented in values.yaml,
 * the schema and docs/helm-chart.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isMap, isScalar, type Pair, parse, parseDocument, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { chartDir, repoRoot } from './chart-sources.js';

const schemaJson = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
const schema = z.fromJSONSchema(schemaJson as Parameters<typeof z.fromJSONSchema>[0]);
const defaults: unknown = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of user values over the defaults: maps merge, anything else replaces, null deletes. */
function coalesce(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override;
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = coalesce(base[key], value);
  }
  return out;
}

/** The schema's verdict on values merged over the defaults: [] when valid. */
function problems(overrides: unknown): string[] {
  const result = schema.safeParse(coalesce(defaults, overrides));
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('values.schema.json', () => {
  test('accepts the defaults', () => expect(problems({})).toEqual([]));

  for (const file of readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('-values.yaml'))) {
    test(`accepts ci/${file}`, () => expect(problems(parse(readFileSync(join(chartDir, 'ci', file), 'utf8')))).toEqual([]));
  }

  const refused: readonly [string, unknown, string][] = [
    ['a misspelt top-level key', { replicas: 3 }, 'replicas'],
    ['a misspelt nested key', { apiService: { takeover: true } }, 'takeover'],
    ['an unknown TLS type', { tls: { type: 'selfSigned' } }, 'tls.type'],
    ['a port out of range', { ports: { grpc: 70000 } }, 'ports.grpc'],
    ['a string replica count', { replicaCount: 'two' }, 'replicaCount'],
    ['a bad image digest', { image: { digest: 'latest' } }, 'image.digest'],
    ['a dashboard file name with a slash', { grafanaDashboard: { extraDashboards: { 'a/b.json': '{}' } } }, 'grafanaDashboard.extraDashboards'],
    ['a rule group without rules', { prometheusRule: { additionalGroups: [{ name: 'x' }] } }, 'prometheusRule.additionalGroups.0'],
    ['a scrape interval that is not a duration', { serviceMonitor: { interval: '30 seconds' } }, 'serviceMonitor.interval'],
    ['a non-string pod label', { podLabels: { tier: 1 } }, 'podLabels.tier'],
  ];
  for (const [name, overrides, path] of refused) {
    test(`refuses ${name}`, () => {
      const found = problems(overrides);
      expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
      expect(found.join('\n')).toContain(path);
    });
  }
});

/**
 * The chart's keys as dotted paths: schema properties, descending into a group only where values.yaml
 * gives it keys of its own (tls.certManager.issuerRef is typed in the schema but empty by default, so
 * it is one key).
 */
function schemaLeaves(node: Json, value: unknown = defaults, prefix = ''): string[] {
  const properties = node['properties'];
  if (!isObject(properties) || !isObject(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(properties).flatMap(([key, child]) => schemaLeaves(isObject(child) ? child : {}, value[key], prefix === '' ? key : `${prefix}.${key}`));
}

/** The comment written above each key of values.yaml, by dotted path. */
function keyComments(): Map<string, string> {
  const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const out = new Map<string, string>();
  const walk = (map: YAMLMap, prefix: string, leading: string | undefined) => {
    map.items.forEach((pair: Pair, index) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const path = prefix === '' ? key : `${prefix}.${key}`;
      // The first key's comment is attached to the map (or the document) rather than to the key.
      const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (index === 0 ? leading : undefined) ?? '';
      // Only the paragraph right above the key documents it (the file header is separated by a blank line).
      out.set(
        path,
        comment
          .split(/\n\s*\n/)
          .pop()
          ?.trim() ?? '',
      );
      if (isMap(pair.value)) walk(pair.value, path, pair.value.commentBefore ?? undefined);
    });
  };
  if (isMap(doc.contents)) walk(doc.contents, '', doc.contents.commentBefore ?? doc.commentBefore ?? undefined);
  return out;
}

describe('values documentation', () => {
  const leaves = schemaLeaves(schemaJson).filter((p) => p !== 'global');
  const comments = keyComments();
  const chartDoc = readFileSync(join(repoRoot, 'docs', 'helm-chart.md'), 'utf8');

  test('every schema key is in values.yaml, and every values.yaml key is in the schema', () => {
    for (const path of leaves) expect(comments.has(path), `${path} missing from values.yaml`).toBe(true);
    const schemaPaths = new Set(schemaLeaves(schemaJson));
    // Keys under a free-form object (config, securityContext, ...) belong to Kubernetes or Foresight, not the chart.
    for (const path of comments.keys()) {
      const covered = [...schemaPaths].some((leaf) => path === leaf || path.startsWith(`${leaf}.`)) || [...schemaPaths].some((leaf) => leaf.startsWith(`${path}.`));
      expect(covered, `${path} is not in values.schema.json`).toBe(true);
    }
  });

  test('every key has a comment in values.yaml that starts with its name', () => {
    for (const path of leaves) {
      const own = comments.get(path) ?? '';
      expect(own.startsWith(path), `values.yaml: the comment above ${path} must start with "${path}", got ${JSON.stringify(own.slice(0, 60))}`).toBe(true);
    }
  });

  test('docs/helm-chart.md lists every key in its values table', () => {
    for (const path of leaves) expect(chartDoc, `docs/helm-chart.md lacks \`${path}\``).toContain(`\`${path}\``);
  });
});
