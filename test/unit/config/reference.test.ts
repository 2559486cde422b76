import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  configKeyReference,
  configSchema,
  environmentVariables,
  loadConfigFromText,
  redactConfig,
  redacted,
  renderConfigKeysMarkdown,
  renderEnvironmentMarkdown,
  secretConfigPaths,
} from '../../../src/config/index.js';

const docPath = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

/** The text between the BEGIN/END GENERATED markers of `name`. */
const markers = (name: string) => [`<!-- BEGIN GENERATED: ${name} -->\n`, `<!-- END GENERATED: ${name} -->`] as const;

function replaceSection(doc: string, name: string, body: string): string {
  const [begin, end] = markers(name);
  const start = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`docs/configuration.md lacks the markers for "${name}"`);
  return `${doc.slice(0, start + begin.length)}${body}\n${doc.slice(stop)}`;
}

describe('configuration reference', () => {
  test('every key has a description', () => {
    const undocumented = configKeyReference().filter((row) => row.description.trim() === '');
    expect(undocumented.map((row) => row.path)).toEqual([]);
  });

  test('durations are shown as durations, lists of sections item by item', () => {
    const byPath = new Map(configKeyReference().map((row) => [row.path, row]));
    expect(byPath.get('forecast.step')).toMatchObject({ type: 'duration', defaultText: '1m' });
    expect(byPath.get('forecast.horizons')).toMatchObject({ type: 'list of duration', defaultText: '[15m]' });
    expect(byPath.get('server.port')).toMatchObject({ type: 'integer', defaultText: '8000' });
    expect(byPath.get('source.prometheus.url')).toMatchObject({ type: 'URL' });
    expect(byPath.get('queues[].name')).toMatchObject({ required: true, defaultText: undefined });
    expect(byPath.get('queues')?.defaultText?.split('\n')).toHaveLength(5);
  });

  test('every environment variable sets keys that exist', () => {
    const paths = new Set(configKeyReference().map((row) => row.path));
    for (const variable of environmentVariables) for (const path of variable.configPaths) expect(paths).toContain(path);
  });

  // The generated tables are golden text: UPDATE_GOLDEN=1 rewrites them, and the diff is reviewed.
  test('docs/configuration.md has the current key and variable tables', () => {
    const doc = readFileSync(docPath, 'utf8');
    const expected = replaceSection(replaceSection(doc, 'config keys', renderConfigKeysMarkdown()), 'environment variables', renderEnvironmentMarkdown());
    if (process.env['UPDATE_GOLDEN'] === '1' && expected !== doc) writeFileSync(docPath, expected);
    else expect(doc).toBe(expected);
  });

  test('the YAML examples in docs/configuration.md load', () => {
    const doc = readFileSync(docPath, 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of blocks) {
      const result = loadConfigFromText({ text, file: 'docs/configuration.md', env: {} });
      if (!result.ok) throw new Error(result.error.message);
    }
  });
});

describe('redactConfig', () => {
  test('replaces every credential and keeps everything else', () => {
    const config = configSchema.parse({
      source: { prometheus: { bearerToken: 'token', headers: { 'X-Scope-OrgID': 'tenant', Authorization: 'Basic abc' } } },
    });
    const shown = redactConfig(config);
    expect(shown.source.prometheus.bearerToken).toBe(redacted);
    expect(shown.source.prometheus.headers).toEqual({ 'X-Scope-OrgID': redacted, Authorization: redacted });
    expect(shown.source.prometheus.url).toBe(config.source.prometheus.url);
    expect(shown.queues).toEqual(config.queues);
    expect(JSON.stringify(shown)).not.toContain('token"');
    expect(config.source.prometheus.bearerToken).toBe('token');
  });

  test('redacts a basic-auth password and leaves unset credentials unset', () => {
    const config = configSchema.parse({ source: { prometheus: { basicAuth: { username: 'u', password: 'p' } } } });
    const shown = redactConfig(config);
    expect(shown.source.prometheus.basicAuth).toEqual({ username: 'u', password: redacted });
    expect('bearerToken' in shown.source.prometheus).toBe(false);
  });

  test('the secret paths name keys that exist', () => {
    const paths = new Set(configKeyReference().map((row) => row.path));
    for (const path of secretConfigPaths) expect(paths).toContain(path.replace(/\.\*$/, ''));
  });
});
