import type * as Tf from '@tensorflow/tfjs';

/** The TensorFlow.js namespace (the types of `@tensorflow/tfjs`, whichever package provides it). */
export type TfModule = typeof Tf;

/** Which backend the runtime runs on. */
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What `loadTensorFlow` may use: `auto` tries tfjs-node, then wasm, then the plain JS cpu backend. */
export type TfBackendPreference = 'auto' | TfBackendName;

/** A loaded TensorFlow.js and the backend it runs on. */
export interface TfRuntime {
  readonly tf: TfModule;
  readonly backend: TfBackendName;
}

let loading: Promise<TfRuntime> | undefined;
let loaded: TfRuntime | undefined;

/**
 * Loads TensorFlow.js on first use (never at import time: the rest of Foresight, and every test
 * that does not train an LSTM, never loads it). `@tensorflow/tfjs-node` is used when it is
 * installed (it is optional: its install downloads libtensorflow, which is not always possible);
 * otherwise `@tensorflow/tfjs` on the wasm backend, which is single-threaded in Node but 3.5–4.5×
 * faster than the JS cpu backend (reference/environment.md §10). Later calls return the same
 * runtime, whatever they prefer: TensorFlow.js has one global engine per process.
 */
export function loadTensorFlow(preference: TfBackendPreference = 'auto'): Promise<TfRuntime> {
  loading ??= load(preference).then((runtime) => {
    loaded = runtime;
    return runtime;
  });
  return loading;
}

async function load(preference: TfBackendPreference): Promise<TfRuntime> {
  if (preference === 'auto' || preference === 'tensorflow') {
    const native = await importOptional('@tensorflow/tfjs-node');
    if (native !== undefined) {
      await native.ready();
      native.enableProdMode();
      return { tf: native, backend: 'tensorflow' };
    }
    if (preference === 'tensorflow') throw new Error('@tensorflow/tfjs-node is not installed; use the wasm or cpu backend');
  }
  const tf = await import('@tensorflow/tfjs');
  // Production mode skips per-op NaN checks and silences the "install the node backend" banner.
  tf.enableProdMode();
  if (preference !== 'cpu') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { tf, backend: 'wasm' };
      }
    } catch {
      // The wasm binary could not be loaded (a stripped install): the JS backend still works, slower.
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, backend: 'cpu' };
}

/** Imports a package that may not be installed; undefined when it is not. */
async function importOptional(name: string): Promise<TfModule | undefined> {
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    return (await import(name)) as TfModule;
  } catch {
    return undefined;
  }
}

/**
 * Tensors alive in the TensorFlow.js engine (`tf.memory().numTensors`), or 0 before it is loaded.
 * Published as the `foresight_tfjs_tensors` gauge: a number that grows from cycle to cycle is a leak.
 */
export function tensorCount(): number {
  return loaded === undefined ? 0 : loaded.tf.memory().numTensors;
}

/** The backend in use, or undefined before TensorFlow.js is loaded. */
export function tensorFlowBackend(): TfBackendName | undefined {
  return loaded?.backend;
}
