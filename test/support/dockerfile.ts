/**
 * Reads the repository's Dockerfile and .dockerignore, so that the image test stages exactly what
 * the image's run stage holds: no container runtime can build the image here (docs/deployment.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One COPY instruction of a stage. */
export interface CopyInstruction {
  /** The stage it copies from (`--from=`), or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly chown: string | undefined;
}

/** One stage: its base, name and instructions (continuation lines joined, comments dropped). */
export interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly { readonly keyword: string; readonly args: string }[];
}

/** The stages of a Dockerfile, in order. Only what the image test needs: no heredocs, no escape directive. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: { base: string; name: string | undefined; instructions: { keyword: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (match === null) throw new Error(`Dockerfile: cannot read "FROM ${args}"`);
      stages.push({ base: match[1]!, name: match[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The COPY instructions of a stage. */
export function copies(stage: Stage): CopyInstruction[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = words.filter((w) => !w.startsWith('--'));
      const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
      return { from: flag('from'), chown: flag('chown'), sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}

/** The values of ARG lines before the first FROM, with `${NAME}` in a base resolved against them. */
export function resolveBase(text: string, base: string): string {
  const args = new Map<string, string>();
  for (const match of text.matchAll(/^ARG\s+(\w+)=(\S+)$/gm)) if (!args.has(match[1]!)) args.set(match[1]!, match[2]!);
  return base.replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
}

/**
 * Whether .dockerignore sends `path` to the builder. Supports what ours uses: `*`, plain names and
 * `!name` exceptions, the last matching line winning (Docker's rule).
 */
export function isSentToBuilder(ignoreText: string, path: string): boolean {
  let sent = true;
  const top = path.replace(/^\.\//, '').split('/')[0]!;
  for (const raw of ignoreText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '');
    if (pattern === '*' || pattern === top || pattern === path.replace(/\/$/, '')) sent = negated;
  }
  return sent;
}

/** The repository's Dockerfile and .dockerignore. */
export function readImageFiles(repoRoot: string): { readonly dockerfile: string; readonly dockerignore: string } {
  return { dockerfile: readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'), dockerignore: readFileSync(join(repoRoot, '.dockerignore'), 'utf8') };
}
