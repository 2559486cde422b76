#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { buildInfo } from '../version.js';
import { type Command, type CliIo, exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';

const usage = `Usage: foresight [command] [options]
       foresight --version | version

Commands:
  serve      Run the service (default).
  backtest   Rolling-origin forecasts of a CSV trace (docs/cli.md).
  detect     Causal anomaly scores of a CSV trace (docs/anomaly-detection.md).
  simulate   Replay a trace through a queue under an autoscaling policy (docs/simulator.md).
  train      Train the learned models from Prometheus history or CSV files (docs/ml-models.md).

Run "foresight <command> --help" (or "foresight help <command>") for a command's options.

${exitCodesHelp("a run-time or configuration failure (the command's --help says which)")}`;

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
  if (first === '--version' || first === '-v' || first === 'version') {
    if (rest.length > 0) {
      io.stderr.write(`foresight: ${first} takes no arguments\n\n${usage}`);
      return exitUsage;
    }
    const build = buildInfo(io.env);
    io.stdout.write(`foresight ${build.version} (revision ${build.revision}, node ${process.version})\n`);
    return exitOk;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    // "foresight help backtest" is "foresight backtest --help".
    const topic = rest[0];
    if (first === 'help' && topic !== undefined && Object.hasOwn(commands, topic)) return (await commands[topic]!())(['--help'], io);
    if (topic !== undefined && first === 'help') {
      io.stderr.write(`foresight: no help for "${topic}": not a command\n\n${usage}`);
      return exitUsage;
    }
    io.stdout.write(usage);
    return exitOk;
  }
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : 'serve';
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    io.stderr.write(`foresight: unknown command "${name}"\n\n${usage}`);
    return exitUsage;
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
      process.exitCode = exitFailure;
    },
  );
}
