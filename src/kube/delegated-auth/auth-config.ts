import { X509Certificate } from 'node:crypto';

/** How front-proxy requests are recognised and read: the `requestheader-*` keys of the ConfigMap. */
export interface RequestHeaderConfig {
  readonly ca: readonly X509Certificate[];
  /** Common names a front-proxy certificate may have; empty means any certificate the CA signed. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

/** What kube-apiserver publishes for extension API servers in kube-system/extension-apiserver-authentication. */
export interface AuthenticationConfig {
  /** `client-ca-file`: client certificates it signed authenticate as CN (user) and O (groups). */
  readonly clientCa: readonly X509Certificate[];
  /** Absent when the cluster has no aggregation layer configured (no `requestheader-client-ca-file`). */
  readonly requestHeader: RequestHeaderConfig | undefined;
}

export const AUTH_CONFIGMAP_PATH =
  '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';

/**
 * Reads the ConfigMap's `data` as k8s.io/apiserver's RequestHeaderAuthRequestController and the client-CA
 * controller do: CA bundles as PEM, header lists as JSON string arrays. Throws an Error naming the key when a
 * value does not parse, so the last good configuration stays in use.
 *
 * @example
 * const config = parseAuthenticationConfig(configMap.data);
 * config.requestHeader?.allowedNames; // ['front-proxy-client']
 */
export function parseAuthenticationConfig(data: Readonly<Record<string, unknown>>): AuthenticationConfig {
  const requestHeaderCa = pemBundle(data, 'requestheader-client-ca-file');
  return {
    clientCa: pemBundle(data, 'client-ca-file'),
    requestHeader:
      requestHeaderCa.length === 0
        ? undefined
        : {
            ca: requestHeaderCa,
            allowedNames: stringList(data, 'requestheader-allowed-names'),
            usernameHeaders: stringList(data, 'requestheader-username-headers'),
            uidHeaders: stringList(data, 'requestheader-uid-headers'),
            groupHeaders: stringList(data, 'requestheader-group-headers'),
            extraHeaderPrefixes: stringList(data, 'requestheader-extra-headers-prefix'),
          },
  };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pemBundle(data: Readonly<Record<string, unknown>>, key: string): X509Certificate[] {
  const value = data[key];
  if (value === undefined || value === '') return [];
  if (typeof value !== 'string') throw new Error(`${key} is not a string`);
  const blocks = value.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${key} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${key}: certificate ${i + 1} does not parse: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
}

function stringList(data: Readonly<Record<string, unknown>>, key: string): string[] {
  const value = data[key];
  if (value === undefined || value === '') return [];
  let parsed: unknown;
  try {
    parsed = typeof value === 'string' ? JSON.parse(value) : value;
  } catch (err) {
    throw new Error(`${key} is not a JSON list of strings`, { cause: err });
  }
  if (!Array.isArray(parsed) || parsed.some((v) => typeof v !== 'string')) {
    throw new Error(`${key} is not a JSON list of strings`);
  }
  return parsed as string[];
}
