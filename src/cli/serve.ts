import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { rulesBaseDirs, Service } from '../app/index.js';
import { ConfigWatcher, loadConfig } from '../config/index.js';
import { systemClock } from '../core/index.js';
import { loadDecisionPolicy } from '../engine/index.js';
import { buildInfo } from '../version.js';
import { type Command, exitUsage } from './io.js';

const usage = `Usage: foresight serve [--config FILE]

Runs the service: the reconcile loop, and the HTTP API on PORT (default 8000).
  --config FILE   YAML configuration (default: FORESIGHT_CONFIG, else built-in defaults).
                  The file is watched: a valid edit applies from the next cycle, an invalid one
                  is refused and logged while the previous configuration keeps running.
Without a Prometheus configured, it replays the bundled demo workload.
`;

/** `foresight serve`: runs until SIGTERM or SIGINT, then stops gracefully. */
export const serveCommand: Command = async (args, io) => {
  let file: string | undefined;
  try {
    const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help === true) {
      io.stdout.write(usage);
      return 0;
    }
    // An empty FORESIGHT_CONFIG means "not set", as for every other variable.
    const fromEnv = io.env['FORESIGHT_CONFIG'];
    file = values.config ?? (fromEnv === '' ? undefined : fromEnv);
  } catch (error) {
    io.stderr.write(`foresight serve: ${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return exitUsage;
  }

  // A configuration that does not load stops the start: running with a config other than the one
  // the operator wrote would be worse than not running.
  const initial = loadConfig({ ...(file === undefined ? {} : { file }), env: io.env });
  if (!initial.ok) {
    io.stderr.write(`foresight serve: refusing to start, the configuration is invalid:\n${initial.error.message}\n`);
    return exitUsage;
  }
  const config = initial.value;
  const rules = loadDecisionPolicy(config, rulesBaseDirs);
  if (!rules.ok) {
    io.stderr.write(`foresight serve: refusing to start, the scaling rules are invalid:\n${rules.error}\n`);
    return exitUsage;
  }
  const logger = pino({
    level: config.logLevel,
    base: { service: 'foresight' },
    redact: ['config.source.prometheus.bearerToken', 'config.source.prometheus.basicAuth.password', '*.authorization', '*.Authorization'],
  });
  const watcher = new ConfigWatcher({ ...(file === undefined ? {} : { file }), env: io.env, clock: systemClock, initial: config });
  const build = buildInfo(io.env);
  const service = new Service({ config: () => watcher.current(), clock: systemClock, logger, build, env: io.env });
  service.metrics.configReloaded(true, systemClock.nowMs());
  watcher.subscribe({
    onReload: () => {
      logger.info({ file }, 'configuration reloaded');
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
    io.stderr.write(`foresight serve: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    watcher.stop();
    await service.stop();
    return exitUsage;
  }
  logger.info({ url: service.url, version: build.version, source: config.source.type, queues: config.queues.length }, 'foresight is serving');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    watcher.stop();
    await service.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => watcher.reload());
  // Keep running: the exit code is set by the signal handlers.
  return -1;
};
