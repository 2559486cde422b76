/**
 * `tsx bench/lstm-throughput.ts`: how fast the configured LSTM (`ml.lstm`) trains and predicts on
 * this machine, in windows per CPU-second of this process (and per wall second beside it). The
 * backend runs on one thread, so CPU time is what an idle core would take, however busy the
 * machine is: the figures the training budget (`ml.lstm.epochs` × `maxWindows`) and the number of
 * scored held-out origins are sized with (docs/ml-models.md).
 *
 * Usage: tsx bench/lstm-throughput.ts [--windows N]   (default 1024 random windows)
 */
import process from 'node:process';
import { loadConfig } from '../src/config/index.js';
import { loadTensorFlow } from '../src/forecast/lstm/tf-runtime.js';
import { buildModel } from '../src/forecast/lstm/network.js';
import { defaultLstmOptions } from '../src/forecast/index.js';
import { lstmOptionsFromConfig } from '../src/training/index.js';

const flag = process.argv.indexOf('--windows');
const windows = flag >= 0 ? Number(process.argv[flag + 1]) : 1024;
if (!Number.isInteger(windows) || windows < 128) {
  process.stderr.write('usage: tsx bench/lstm-throughput.ts [--windows N] (N >= 128)\n');
  process.exit(2);
}
const loaded = loadConfig({ env: {} });
if (!loaded.ok) throw new Error(loaded.error.message);
const o = { ...defaultLstmOptions, ...lstmOptionsFromConfig(loaded.value.ml.lstm) };
const cpuSeconds = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
};
const { tf, backend } = await loadTensorFlow(loaded.value.ml.lstm.backend);
const model = buildModel(tf, o);
const x = tf.randomNormal([windows, o.lookbackSteps, o.features.length], 0, 1, 'float32', 1);
const y = tf.randomNormal([windows, 1], 0, 1, 'float32', 2);
// One warm-up batch: kernels compiled, memory allocated.
await model.fit(x.slice(0, o.batchSize), y.slice(0, o.batchSize), { epochs: 1, batchSize: o.batchSize, verbose: 0 });
let cpu = cpuSeconds();
let wall = performance.now();
await model.fit(x, y, { epochs: 1, batchSize: o.batchSize, verbose: 0, shuffle: false });
const fit = { cpu: cpuSeconds() - cpu, wall: (performance.now() - wall) / 1000 };
cpu = cpuSeconds();
wall = performance.now();
tf.tidy(() => (model.predict(x) as typeof x).dataSync());
const predict = { cpu: cpuSeconds() - cpu, wall: (performance.now() - wall) / 1000 };
const f = (v: number) => v.toFixed(0);
process.stdout.write(
  [
    `Produced by \`tsx bench/lstm-throughput.ts --windows ${windows}\` on the ${backend} backend: the configured network (LSTM ${o.units.join(' → ')}, ${o.lookbackSteps} steps × ${o.features.length} features, batch ${o.batchSize}).`,
    '',
    '| | windows per CPU-second | windows per wall second |',
    '|---|---:|---:|',
    `| training (model.fit) | ${f(windows / fit.cpu)} | ${f(windows / fit.wall)} |`,
    `| forecasting (model.predict) | ${f(windows / predict.cpu)} | ${f(windows / predict.wall)} |`,
    '',
  ].join('\n'),
);
