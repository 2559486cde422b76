/**
 * Errors get identity (issue 12 item 3): every error Foresight raises on purpose is a ForesightError
 * with a stable code, raised where it reaches a user: a start that fails (the CLI prints it, the log
 * carries `err.code`), a refused owned file, a failed Kubernetes call, a refused HTTP request.
 * Internal parser exceptions of the rules language (decide/expression) never leave their module:
 * they become ExpressionError values there.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toApiError } from '../../../src/actuate/kubernetes-api.js';
import { LeaseConflictError } from '../../../src/actuate/lease-store.js';
import { planAuthentication } from '../../../src/api/extension-server/auth-setup.js';
import { createHttpListener } from '../../../src/api/index.js';
import { parseHours } from '../../../src/api/request-params.js';
import { errorCodes, ForesightError, isForesightError } from '../../../src/core/index.js';
import { readOwnedFile } from '../../../src/training/owned-file.js';
import { configFromYaml } from '../../support/service.js';

/** What a rejected promise or a throwing call raised. */
async function raised(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('error codes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-error-codes-'));
    await writeFile(join(dir, 'real'), 'x');
    await symlink('/etc/hostname', join(dir, 'link'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('codes are unique', () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });

  test.each([
    [
      'an unusable server.tls file stops the HTTP port from starting',
      () =>
        createHttpListener({
          app: () => {},
          config: () => configFromYaml(`server: { host: 127.0.0.1, port: 0, tls: { certFile: ${dir}/none.crt, keyFile: ${dir}/none.key } }`),
          logger: pino({ level: 'silent' }),
        }).start(),
      { name: 'TlsFilesError', code: 'FORESIGHT_ERR_TLS_FILES' },
    ],
    [
      'externalMetrics.tokenReview "on" outside a cluster',
      () => planAuthentication(configFromYaml('externalMetrics: { enabled: true, tokenReview: on }').externalMetrics, false),
      { name: 'AuthSetupError', code: 'FORESIGHT_ERR_AUTH_SETUP' },
    ],
    ['a missing owned file', () => readOwnedFile(dir, 'absent', 100, 'a test file'), { name: 'SmallFileError', code: 'FORESIGHT_ERR_FILE_MISSING', missing: true }],
    ['a symlinked owned file', () => readOwnedFile(dir, 'link', 100, 'a test file'), { name: 'SmallFileError', code: 'FORESIGHT_ERR_FILE_REFUSED', missing: false }],
    ['an owned file over its cap', () => readOwnedFile(dir, 'real', 0, 'a test file'), { name: 'SmallFileError', code: 'FORESIGHT_ERR_FILE_REFUSED' }],
    ['a bad ?hours= on the HTTP API', () => parseHours('soon', 24, 6), { name: 'HttpError', code: 'FORESIGHT_ERR_INPUT_INVALID', statusCode: 400 }],
    [
      'a failed Kubernetes API call',
      () => {
        throw toApiError('patch deployments/scale claims/worker', { code: 403, body: { reason: 'Forbidden', message: 'no' } });
      },
      { name: 'KubernetesApiError', code: 'FORESIGHT_ERR_KUBERNETES_API', status: 403 },
    ],
    [
      'a lease written by another replica first',
      () => {
        throw new LeaseConflictError('update leases/foresight: another replica wrote it first');
      },
      { name: 'LeaseConflictError', code: 'FORESIGHT_ERR_LEASE_CONFLICT' },
    ],
  ] as const)('%s', async (_what, run, expected) => {
    const error = await raised(run);
    expect(error).toBeInstanceOf(ForesightError);
    expect(isForesightError(error)).toBe(true);
    expect(error).toMatchObject(expected);
  });
});
