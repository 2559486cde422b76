import { readFileSync } from 'node:fs';

/** The package version and the git revision it was built from (FORESIGHT_REVISION, set by the image build). */
export function buildInfo(env: Readonly<Record<string, string | undefined>> = process.env): { readonly version: string; readonly revision: string } {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return { version: typeof pkg.version === 'string' ? pkg.version : '0.0.0', revision: env['FORESIGHT_REVISION'] ?? 'unknown' };
}
