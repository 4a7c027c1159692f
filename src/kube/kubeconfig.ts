import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../component/errors.js';
import type { Clock } from '../component/clock.js';
import { rotatingTokenFile } from './token-file.js';

/** TLS settings for one HTTPS peer, in the shape undici's `connect` options take. */
export interface TlsSettings {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized?: boolean;
}

/** How to reach and authenticate to the API server, resolved from a kubeconfig or the pod's service account. */
export interface ClusterAccess {
  /** Base URL of the API server, without a trailing slash. */
  readonly server: string;
  readonly inCluster: boolean;
  /** Where the settings came from, for log lines and error messages (never holds a secret). */
  readonly origin: string;
  readonly tls: TlsSettings;
  /** The Authorization header value for the next request, re-read so rotated tokens take effect. */
  authorization(): Promise<string | undefined>;
  /** Service-account token file when in-cluster: kubelets accept the same token. */
  readonly tokenFile?: string;
  /** Service-account CA file when in-cluster. */
  readonly caFile?: string;
}

export interface ClusterAccessOptions {
  /** Explicit kubeconfig path; otherwise KUBECONFIG, then ~/.kube/config, then in-cluster. */
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Force the in-cluster service account even when a kubeconfig exists. */
  readonly inCluster?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
  /** Where the service account is mounted; tests point it at a temp dir. */
  readonly serviceAccountDir?: string;
  readonly clock: Clock;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Resolves API server access: in-cluster (KUBERNETES_SERVICE_HOST + mounted service account) or a kubeconfig
 * (explicit path, else the first file in KUBECONFIG, else ~/.kube/config), with an optional context.
 *
 * @example
 * const access = await resolveClusterAccess({ kubeconfig: 'kubeconfig.yaml', clock });
 * access.server; // 'https://127.0.0.1:6443'
 */
export async function resolveClusterAccess(options: ClusterAccessOptions): Promise<ClusterAccess> {
  const env = options.env ?? process.env;
  if (options.inCluster === true) return inClusterAccess(options, env);
  const file = options.kubeconfig ?? defaultKubeconfig(env, options.homeDir ?? homedir());
  if (file !== undefined) return kubeconfigAccess(file, options.context);
  if (env.KUBERNETES_SERVICE_HOST !== undefined) return inClusterAccess(options, env);
  throw new ConfigError([
    'discovery.kubernetes: no cluster access found: set `kubeconfig`, export KUBECONFIG, create ~/.kube/config, ' +
      'or run inside a pod with a service account (KUBERNETES_SERVICE_HOST is not set)',
  ]);
}

function defaultKubeconfig(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string | undefined {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((f) => f.length > 0);
  if (first !== undefined) return first;
  const fallback = join(home, '.kube', 'config');
  return existsSync(fallback) ? fallback : undefined;
}

function inClusterAccess(
  options: ClusterAccessOptions,
  env: Readonly<Record<string, string | undefined>>,
): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (host === undefined || host === '') {
    throw new ConfigError([
      'discovery.kubernetes.in_cluster: KUBERNETES_SERVICE_HOST is not set; run inside a pod or use `kubeconfig`',
    ]);
  }
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const caFile = join(dir, 'ca.crt');
  const tokenFile = join(dir, 'token');
  const ca = readRequired(caFile, 'the service-account CA');
  const token = rotatingTokenFile(tokenFile, options.clock);
  token(); // fail now, with the path, rather than at the first list
  const hostPart = isIPv6(host) ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    inCluster: true,
    origin: `in-cluster service account (${dir})`,
    tls: { ca, rejectUnauthorized: true },
    authorization: () => Promise.resolve(`Bearer ${token()}`),
    tokenFile,
    caFile,
  };
}

async function kubeconfigAccess(file: string, context: string | undefined): Promise<ClusterAccess> {
  // Loaded on demand: client-node takes half a second to import, which static and simulated pipelines never need.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new ConfigError(
      [`discovery.kubernetes.kubeconfig: cannot read ${file}: ${(err as Error).message}`],
      {
        cause: err,
      },
    );
  }
  if (context !== undefined) {
    if (!kc.contexts.some((c) => c.name === context)) {
      const known = kc.contexts.map((c) => c.name).join(', ');
      throw new ConfigError([
        `discovery.kubernetes.context: context "${context}" is not in ${file} (it has: ${known || 'none'})`,
      ]);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new ConfigError([
      `discovery.kubernetes.kubeconfig: ${file} has no current cluster (set current-context or \`context\`)`,
    ]);
  }
  const probe: {
    ca?: unknown;
    cert?: unknown;
    key?: unknown;
    servername?: string;
    rejectUnauthorized?: boolean;
  } = {};
  try {
    await kc.applyToHTTPSOptions(probe);
  } catch (err) {
    throw new ConfigError(
      [`discovery.kubernetes.kubeconfig: ${file}: cannot load credentials: ${(err as Error).message}`],
      { cause: err },
    );
  }
  const tls: TlsSettings = {
    ...(Buffer.isBuffer(probe.ca) ? { ca: probe.ca } : {}),
    ...(Buffer.isBuffer(probe.cert) ? { cert: probe.cert } : {}),
    ...(Buffer.isBuffer(probe.key) ? { key: probe.key } : {}),
    ...(probe.servername === undefined ? {} : { servername: probe.servername }),
    rejectUnauthorized: probe.rejectUnauthorized !== false,
  };
  return {
    server: cluster.server.replace(/\/+$/, ''),
    inCluster: false,
    origin: `kubeconfig ${file} (context ${kc.getCurrentContext()})`,
    tls,
    async authorization() {
      // client-node handles static tokens, token files, exec plugins and OIDC here, refreshing as they expire.
      const opts: { headers?: Record<string, unknown> } = {};
      await kc.applyToHTTPSOptions(opts);
      const value = opts.headers?.Authorization ?? opts.headers?.authorization;
      return typeof value === 'string' ? value : undefined;
    },
  };
}

function readRequired(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      [`discovery.kubernetes: cannot read ${what} at ${file}: ${(err as Error).message}`],
      {
        cause: err,
      },
    );
  }
}
