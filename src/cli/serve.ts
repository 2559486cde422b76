import { pino } from 'pino';
import { rulesBaseDirs, Service } from '../app/index.js';
import { ConfigWatcher, configDeprecations, loadConfig } from '../config/index.js';
import { killForkedChildren, messageOf, systemClock } from '../core/index.js';
import { loadDecisionPolicy } from '../engine/index.js';
import { buildInfo } from '../version.js';
import { parseFlags } from './flags.js';
import { type Command, exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';

const usage = `Usage: foresight serve [--config FILE]

Runs the service: the reconcile loop, and the HTTP API on PORT (default 8000).
  --config FILE   YAML configuration (default: FORESIGHT_CONFIG, else built-in defaults).
                  The file is watched: a valid edit applies from the next cycle, an invalid one
                  is refused and logged while the previous configuration keeps running.
Without a Prometheus configured, it replays the bundled demo workload.
It runs until SIGTERM or SIGINT, then stops gracefully and exits 0.

${exitCodesHelp('the configuration or the scaling rules are invalid, or a server cannot start (a port in use, unusable certificates)')}`;

/** `foresight serve`: runs until SIGTERM or SIGINT, then stops gracefully. */
export const serveCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, { config: { type: 'string' } });
  if (!parsed.ok) {
    io.stderr.write(`foresight serve: ${parsed.error}\n\n${usage}`);
    return exitUsage;
  }
  if (parsed.value === 'help') {
    io.stdout.write(usage);
    return exitOk;
  }
  // An empty FORESIGHT_CONFIG means "not set", as for every other variable.
  const fromEnv = io.env['FORESIGHT_CONFIG'];
  const file = parsed.value.config ?? (fromEnv === '' ? undefined : fromEnv);

  // A configuration that does not load stops the start: running with a config other than the one
  // the operator wrote would be worse than not running.
  const initial = loadConfig({ ...(file === undefined ? {} : { file }), env: io.env });
  if (!initial.ok) {
    io.stderr.write(`foresight serve: refusing to start, the configuration is invalid:\n${initial.error.message}\n`);
    return exitFailure;
  }
  const config = initial.value;
  const rules = loadDecisionPolicy(config, rulesBaseDirs);
  if (!rules.ok) {
    io.stderr.write(`foresight serve: refusing to start, the scaling rules are invalid:\n${rules.error}\n`);
    return exitFailure;
  }
  const logger = pino({
    level: config.logLevel,
    base: { service: 'foresight' },
    redact: ['config.source.prometheus.bearerToken', 'config.source.prometheus.basicAuth.password', '*.authorization', '*.Authorization'],
  });
  const warnDeprecated = (loaded: typeof config) => {
    for (const d of configDeprecations(loaded)) logger.warn({ key: d.path, file }, `deprecated configuration key: ${d.message}`);
  };
  warnDeprecated(config);
  const watcher = new ConfigWatcher({ ...(file === undefined ? {} : { file }), env: io.env, clock: systemClock, initial: config });
  const build = buildInfo(io.env);
  const service = new Service({ config: () => watcher.current(), clock: systemClock, logger, build, env: io.env });
  watcher.subscribe({
    onReload: (reloaded) => {
      logger.info({ file }, 'configuration reloaded');
      warnDeprecated(reloaded);
      service.metrics.configReloaded(true, systemClock.nowMs());
    },
    onError: (err) => {
      logger.error({ err, file }, 'configuration change refused; the previous configuration keeps running');
      service.metrics.configReloaded(false, systemClock.nowMs());
    },
  });

  watcher.start();
  try {
    await service.start();
  } catch (error) {
    // Certificates, trust or the Kubernetes API for delegated auth are unusable: say which, and stop.
    logger.fatal({ err: error }, 'cannot start');
    io.stderr.write(`foresight serve: cannot start: ${messageOf(error)}\n`);
    watcher.stop();
    await service.stop();
    return exitFailure;
  }
  logger.info({ url: service.url, version: build.version, source: config.source.type, queues: config.queues.length }, 'foresight is serving');

  let stopping = false;
  const stop = async (signal: string) => {
    // A second signal does not wait any longer.
    if (stopping) {
      killForkedChildren();
      process.exit(1);
    }
    stopping = true;
    const graceSeconds = watcher.current().server.shutdownGrace;
    logger.info({ signal, graceSeconds }, 'stopping');
    // A cycle stuck on a hostile input or a hung query must not keep the process alive: the
    // deadline ends it whatever is still running (unref'd, so it never delays a clean exit).
    setTimeout(() => {
      const killed = killForkedChildren();
      logger.error({ graceSeconds, killedChildProcesses: killed }, 'did not stop within server.shutdownGrace; exiting anyway');
      process.exit(1);
    }, graceSeconds * 1000).unref();
    watcher.stop();
    await service.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => watcher.reload());
  // Keep running: the exit code is set by the signal handlers.
  return -1;
};
