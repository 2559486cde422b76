/**
 * The release workflow (.github/workflows/release.yaml) cannot run here (it pushes to a registry);
 * these checks keep it valid and in step with the Dockerfile, the chart and the package: it parses
 * as a GitHub Actions workflow, its shell steps pass `bash -n`, every action is pinned, and it builds
 * the image the chart deploys, with the revision the image reports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';

const repo = process.cwd();
const file = '.github/workflows/release.yaml';
const text = readFileSync(join(repo, file), 'utf8');

const step = z.strictObject({
  id: z.string().optional(),
  name: z.string().optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  with: z.record(z.string(), z.union([z.string(), z.boolean(), z.number()])).optional(),
  env: z.record(z.string(), z.string()).optional(),
});
const workflowSchema = z.strictObject({
  name: z.string(),
  on: z.record(z.string(), z.unknown()),
  permissions: z.record(z.string(), z.enum(['read', 'write', 'none'])),
  concurrency: z.unknown().optional(),
  env: z.record(z.string(), z.string()).optional(),
  jobs: z.record(
    z.string(),
    z.strictObject({
      name: z.string(),
      'runs-on': z.string(),
      needs: z.union([z.string(), z.array(z.string())]).optional(),
      permissions: z.record(z.string(), z.enum(['read', 'write', 'none'])).optional(),
      outputs: z.record(z.string(), z.string()).optional(),
      steps: z.array(step.refine((s) => (s.uses === undefined) !== (s.run === undefined), 'a step has exactly one of uses and run')).min(1),
    }),
  ),
});
const workflow = workflowSchema.parse(parse(text, { strict: true, uniqueKeys: true }));
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const uses = (action: string) => steps.find((s) => s.uses?.startsWith(`${action}@`));

describe(file, () => {
  test('runs on version tags, with read-only permissions except where a job pushes', () => {
    expect((workflow.on['push'] as { tags: string[] }).tags).toEqual(['v*.*.*']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const pushes = job.steps.some((s) => s.uses?.startsWith('docker/build-push-action@') || (s.run ?? '').includes('helm push'));
      expect(job.permissions?.['packages'] === 'write', name).toBe(pushes);
    }
  });

  test('every job it needs exists, and nothing is pushed before the versions agree and the tests pass', () => {
    const needs = (name: string): string[] => [workflow.jobs[name]?.needs ?? []].flat();
    for (const name of Object.keys(workflow.jobs)) for (const need of needs(name)) expect(Object.keys(workflow.jobs), `${name} needs ${need}`).toContain(need);
    expect(needs('image')).toContain('verify');
    expect(needs('chart')).toEqual(expect.arrayContaining(['verify', 'image']));
    expect(workflow.jobs['verify']!.steps.some((s) => s.run?.includes('.ci/run'))).toBe(true);
  });

  test('every action is pinned to a major version or a commit', () => {
    for (const s of steps.filter((x) => x.uses !== undefined)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
  });

  test('every run script is valid bash', () => {
    for (const s of steps.filter((x) => x.run !== undefined)) {
      // ${{ … }} is GitHub's, substituted before bash runs: replace it with a word.
      const script = s.run!.replace(/\$\{\{[^}]*\}\}/g, 'X');
      const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.status, `${s.name ?? s.run}: ${check.stderr}`).toBe(0);
    }
  });

  test('builds the Dockerfile into the image the chart deploys, with the commit as FORESIGHT_REVISION', () => {
    const build = uses('docker/build-push-action')!;
    expect(build.with).toMatchObject({ context: '.', file: 'Dockerfile', push: true });
    expect(String(build.with!['build-args'])).toMatch(/^FORESIGHT_REVISION=\$\{\{ github\.sha \}\}$/m);
    expect(String(build.with!['platforms']).split(',')).toEqual(['linux/amd64', 'linux/arm64']);
    const values = parse(readFileSync(join(repo, 'charts/foresight/values.yaml'), 'utf8')) as { image: { repository: string } };
    expect(workflow.env?.['IMAGE']).toBe(values.image.repository);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template literal
    expect(uses('docker/metadata-action')!.with!['images']).toBe('${{ env.IMAGE }}');
    // The chart's default tag is its appVersion: the semver tag without the "v".
    expect(String(uses('docker/metadata-action')!.with!['tags'])).toContain('type=semver,pattern={{version}}');
  });

  test('lints, packages with the released version and pushes the chart', () => {
    const script = workflow.jobs['chart']!.steps.map((s) => s.run ?? '').join('\n');
    expect(script).toContain('helm lint charts/foresight --strict');
    expect(script).toContain('helm package charts/foresight --version "$VERSION" --app-version "$VERSION"');
    expect(script).toMatch(/helm push "dist-chart\/foresight-\$VERSION\.tgz" "\$CHART_REPOSITORY"/);
  });
});
