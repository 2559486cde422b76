/**
 * The `kube-system/extension-apiserver-authentication` ConfigMap that kube-apiserver writes for
 * extension API servers: the client CA, the front-proxy (request-header) CA, the allowed proxy names
 * and the header names. Values are PEM text (despite the `-file` suffixes) and JSON arrays.
 */
import { z } from 'zod';
import { err, ok, type Result } from '../../core/index.js';

/** The name and namespace of the ConfigMap. */
export const authenticationConfigMap = { namespace: 'kube-system', name: 'extension-apiserver-authentication' } as const;

/** The ConfigMap's content, parsed. Header names are kept as written. */
export interface ExtensionApiserverAuthentication {
  readonly clientCAPem?: string;
  readonly requestHeader?: {
    readonly clientCAPem: string;
    readonly allowedNames: readonly string[];
    readonly usernameHeaders: readonly string[];
    readonly uidHeaders: readonly string[];
    readonly groupHeaders: readonly string[];
    readonly extraHeaderPrefixes: readonly string[];
  };
}

const stringList = z.array(z.string());

function list(data: Readonly<Record<string, string>>, key: string, fallback: readonly string[]): Result<readonly string[], string> {
  const raw = data[key];
  if (raw === undefined || raw.trim() === '') return ok(fallback);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return err(`${authenticationConfigMap.namespace}/${authenticationConfigMap.name} key ${key}: expected a JSON list of strings such as ["X-Remote-User"], got ${JSON.stringify(raw.slice(0, 80))}`);
  }
  const checked = stringList.safeParse(parsed);
  if (!checked.success) return err(`${authenticationConfigMap.namespace}/${authenticationConfigMap.name} key ${key}: expected a JSON list of strings`);
  return ok(checked.data);
}

/**
 * Parses the ConfigMap's `data`. Missing header lists take kube-apiserver's usual values; a
 * missing client CA is allowed (some managed clusters omit it; client certificates then
 * authenticate nothing).
 */
export function parseExtensionApiserverAuthentication(data: Readonly<Record<string, string>>): Result<ExtensionApiserverAuthentication, string> {
  const clientCAPem = data['client-ca-file'];
  const requestHeaderCA = data['requestheader-client-ca-file'];
  if (requestHeaderCA === undefined || requestHeaderCA.trim() === '') {
    return ok(clientCAPem === undefined || clientCAPem.trim() === '' ? {} : { clientCAPem });
  }
  const fields = [
    ['allowedNames', 'requestheader-allowed-names', []],
    ['usernameHeaders', 'requestheader-username-headers', ['X-Remote-User']],
    ['uidHeaders', 'requestheader-uid-headers', ['X-Remote-Uid']],
    ['groupHeaders', 'requestheader-group-headers', ['X-Remote-Group']],
    ['extraHeaderPrefixes', 'requestheader-extra-headers-prefix', ['X-Remote-Extra-']],
  ] as const;
  const values = new Map<string, readonly string[]>();
  for (const [field, key, fallback] of fields) {
    const parsed = list(data, key, fallback);
    if (!parsed.ok) return parsed;
    values.set(field, parsed.value);
  }
  return ok({
    ...(clientCAPem === undefined || clientCAPem.trim() === '' ? {} : { clientCAPem }),
    requestHeader: {
      clientCAPem: requestHeaderCA,
      allowedNames: values.get('allowedNames') ?? [],
      usernameHeaders: values.get('usernameHeaders') ?? [],
      uidHeaders: values.get('uidHeaders') ?? [],
      groupHeaders: values.get('groupHeaders') ?? [],
      extraHeaderPrefixes: values.get('extraHeaderPrefixes') ?? [],
    },
  });
}
