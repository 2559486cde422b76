/**
 * The exit-code contract of every command (docs/cli.md): 0 success, 1 a run-time or configuration
 * failure, 2 bad usage. One table of command lines, run in-process through main(); the built binary
 * is checked in test/integration/image.test.ts (the staged production tree).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';

let dir = '';
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-exit-codes-'));
  // Two days of a 5-minute trace: enough for every command's happy path, small enough to be quick.
  const rows = Array.from({ length: 576 }, (_, i) => `${1_700_000_000 + i * 300},${(100 + 50 * Math.sin((2 * Math.PI * i) / 288)).toFixed(2)}`);
  await writeFile(file('good.csv'), `timestamp,value\n${rows.join('\n')}\n`);
  await writeFile(file('nothing.csv'), 'timestamp,value\nfoo,bar\n');
  await writeFile(file('bad-config.yaml'), 'scaling:\n  monitoringInterval: soon\n');
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { FORESIGHT_REVISION: 'test-revision' } });
  return { code, stdout, stderr };
}

/** A command line (`$dir/` stands for the test's folder), the code it must exit with, and what stderr or stdout must say. */
const table: readonly (readonly [line: string, code: 0 | 1 | 2, says?: RegExp])[] = [
  // The program itself.
  ['--version', 0, /^foresight \d+\.\d+\.\d+ \(revision test-revision, node v20\./],
  ['version', 0, /^foresight \d+\.\d+\.\d+ /],
  ['-v', 0, /revision test-revision/],
  ['version extra', 2, /--version|version takes no arguments/],
  ['--help', 0, /Usage: foresight \[command\]/],
  ['help backtest', 0, /Usage: foresight backtest/],
  ['help nope', 2, /no help for "nope"/],
  ['nope', 2, /unknown command "nope"/],
  // serve (only its failures: success keeps running, see test/integration/serve-cli.test.ts)
  ['serve --bogus', 2, /unknown option "--bogus"/],
  ['--bogus', 2, /foresight serve: unknown option "--bogus"/],
  ['serve --config a.yaml --config b.yaml', 2, /--config is given twice/],
  ['serve positional', 2, /unexpected argument "positional"/],
  ['serve --config $dir/missing.yaml', 1, /configuration is invalid/],
  ['serve --config $dir/bad-config.yaml', 1, /scaling\.monitoringInterval/],
  // backtest
  ['backtest --input $dir/good.csv --out $dir/b.csv --model naive', 0],
  ['backtest --input', 2, /--input needs a value/],
  ['backtest --input $dir/good.csv', 2, /--out is required/],
  ['backtest --input $dir/good.csv --out $dir/b.csv --horizon soon', 2, /--horizon "soon"/],
  ['backtest --input $dir/missing.csv --out $dir/b.csv', 1, /cannot read --input/],
  ['backtest --input $dir/nothing.csv --out $dir/b.csv', 1, /no usable timestamp,value rows/],
  ['backtest --input $dir/good.csv --out $dir/no-such-dir/b.csv --model naive', 1, /cannot write --out/],
  // detect
  ['detect --input $dir/good.csv --out $dir/d.csv', 0],
  ['detect --input $dir/good.csv --out $dir/d.csv --detector prophet', 2, /--detector "prophet" is not a detector/],
  ['detect --input $dir/good.csv --out $dir/d.csv --lstm', 2, /unknown option "--lstm"/],
  ['detect --input $dir/nothing.csv --out $dir/d.csv', 1, /no usable/],
  // simulate
  ['simulate --input $dir/good.csv --policy hpa --json $dir/s.json', 0],
  ['simulate --input $dir/good.csv --quantile 1', 2, /--quantile "1" is not a number/],
  ['simulate --input $dir/good.csv --policy hpa --min 5 --max 2', 2, /--min \(5\) must not be greater than --max \(2\)/],
  ['simulate --input $dir/good.csv --policy predictive --rules $dir/missing.yaml', 1, /cannot read --rules/],
  ['simulate --input $dir/missing.csv --policy hpa', 1, /cannot read --input/],
  // train (the failures only: training itself is tested in test/unit/training)
  ['train --epochs 0', 2, /--epochs must be a whole number >= 1/],
  ['train --series x', 2, /--series names the series of exactly one --input file/],
  ['train --config $dir/bad-config.yaml', 1, /configuration is invalid/],
  ['train --input $dir/missing.csv --out $dir/models', 1, /cannot read the training data/],
];

describe('exit codes: 0 success, 1 run-time or configuration failure, 2 usage', () => {
  it.each(table.map(([line, code, says]) => ({ line, code, says })))('foresight $line exits $code', async ({ line, code, says }) => {
    const result = await run(line.replaceAll('$dir/', `${dir}/`).split(' '));
    expect(result.code, result.stderr).toBe(code);
    if (says !== undefined) expect(code === 0 ? result.stdout : result.stderr).toMatch(says);
    // Usage errors show the usage; other failures do not bury their message under it.
    if (code === 2) expect(result.stderr).toMatch(/Usage: foresight/);
    if (code === 1) expect(result.stderr).not.toMatch(/Usage: foresight/);
  });

  it.each(['serve', 'backtest', 'detect', 'simulate', 'train'])('foresight %s --help lists the exit codes', async (command) => {
    const result = await run([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Exit codes:\n {2}0 {2}success\n {2}1 {2}\S.*\n {2}2 {2}bad usage/m);
  });
});
