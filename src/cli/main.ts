#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import type { Command, CliIo } from './io.js';

const usage = `Usage: foresight [command] [options]

Commands:
  serve      Run the service (default).
  backtest   Rolling-origin forecasts of a CSV trace (docs/cli.md).
  detect     Causal anomaly scores of a CSV trace (docs/anomaly-detection.md).
  simulate   Replay a trace through a queue under an autoscaling policy (docs/simulator.md).
  train      Train the learned models from Prometheus history or CSV files (docs/ml-models.md).

Run "foresight <command> --help" for a command's options.
`;

// Commands are loaded lazily so that "foresight backtest" never loads the HTTP stack, and vice versa.
const commands: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  backtest: async () => (await import('./backtest.js')).backtestCommand,
  detect: async () => (await import('./detect.js')).detectCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  train: async () => (await import('./train.js')).trainCommand,
};

/** Runs the command named by `argv` and returns its exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(usage);
    return 0;
  }
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : 'serve';
  const load = commands[name];
  if (load === undefined) {
    io.stderr.write(`foresight: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  const command = await load();
  return command(named ? rest : argv, io);
}

// npm's bin link is a symlink: compare real paths, so `foresight` from node_modules/.bin runs too.
const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      // "serve" keeps running until a signal; only finished commands set the exit code here.
      if (code >= 0) process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`foresight: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
