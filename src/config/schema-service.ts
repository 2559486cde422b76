import { z } from 'zod';
import { duration } from './schema-primitives.js';

// Sections of the service itself: the HTTP server, logging and the snapshot store.

export const serverSection = z
  .strictObject({
    host: z.string().default('0.0.0.0').describe('Address the HTTP server binds to.'),
    port: z.number().int().min(0).max(65535).default(8000).describe('HTTP port for /scaling/*, /metrics, health and the web view (PORT overrides).'),
  })
  .prefault({})
  .describe('The HTTP server.');

export const logLevelSection = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (LOG_LEVEL overrides).');

export const snapshotSection = z
  .strictObject({
    maxAge: duration.default(300).describe('A snapshot older than this is reported stale (and the external-metrics API answers 503).'),
    historyRetention: duration.default(86400).describe('How long past cycles are kept for /scaling/history.'),
  })
  .prefault({})
  .describe('The results of the latest cycles, which every API answer is served from.');
