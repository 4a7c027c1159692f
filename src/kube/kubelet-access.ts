import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Clock } from '../component/clock.js';
import type { Logger } from '../component/logger.js';
import { ConfigError } from '../component/errors.js';
import {
  APISERVER_PROXY_DISCOVERY_MESSAGE,
  INSECURE_TOKEN_MESSAGE,
  insecureTokenFile,
  type KubeletAccessConfig,
} from './kubelet-access-config.js';
import type { KubeletClientOptions } from './kubelet-client.js';
import { KubernetesDiscovery } from './kubernetes-discovery.js';
import type { NodeDiscovery } from '../component/node-target.js';
import { rotatingTokenFile } from './token-file.js';

type AccessOptions = Pick<
  KubeletClientOptions,
  'tls' | 'bearerToken' | 'authorization' | 'proxy' | 'credentialHint' | 'scheme'
>;

export interface KubeletAccessContext {
  /** Relative `*_file` paths resolve against the pipeline file's directory. */
  readonly baseDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Turns a source's `via`/`scheme`/`tls`/`auth` keys into KubeletClient options. Call it after
 * `discovery.start()`: with `kubernetes` discovery, the defaults come from the cluster access in use — in-cluster,
 * the service-account token and CA; through a kubeconfig, its CA and credentials — and `apiserver_proxy`
 * sends every scrape through the API server. The keys are checked by the source's schema (checkKubeletAccess);
 * this only reads files, now (a missing file is a ConfigError naming it);
 * tokens are re-read when they rotate and never logged.
 *
 * @example
 * await discovery.start();
 * const client = new KubeletClient({ scheme: 'https', timeoutMs: 5000, maxResponseBytes: 1 << 26,
 *   ...kubeletAccess({ scheme: 'https', via: 'direct', tls: { ca_file: 'ca.crt', insecure_skip_verify: false } },
 *   discovery, ctx) }, ctx.clock);
 */
export function kubeletAccess(
  config: KubeletAccessConfig,
  discovery: NodeDiscovery,
  ctx: KubeletAccessContext,
): AccessOptions {
  const cluster = discovery instanceof KubernetesDiscovery ? discovery.access : undefined;
  if (config.allow_insecure_token === true) {
    ctx.logger.warn(
      'source.allow_insecure_token is on: a bearer token may be sent over plain http, where anyone on the path can read it',
    );
  }
  if (config.via === 'apiserver_proxy') {
    // The source schema rejects apiserver_proxy without kubernetes discovery (checkKubeletAccess).
    if (cluster === undefined) throw new Error(`source.via: ${APISERVER_PROXY_DISCOVERY_MESSAGE}`);
    if (config.tls !== undefined || config.auth !== undefined) {
      ctx.logger.warn(
        'source.tls and source.auth are not used with via: apiserver_proxy (the API server credentials are)',
      );
    }
    return {
      scheme: 'https',
      proxy: { server: cluster.server },
      tls: cluster.tls,
      authorization: proxyAuthorization(cluster, config, ctx),
      credentialHint: `the API server credentials of ${cluster.origin} (RBAC needs nodes/proxy)`,
    };
  }
  const hints: string[] = [];
  const file = (key: string, path: string) => readFile(key, resolve(ctx.baseDir, path));
  const tlsConfig = config.tls;
  let tls: NonNullable<KubeletClientOptions['tls']> | undefined;
  if (config.scheme === 'https') {
    const caPath = tlsConfig?.ca_file ?? cluster?.caFile;
    const ca = tlsConfig?.ca_file !== undefined ? file('tls.ca_file', tlsConfig.ca_file) : cluster?.tls.ca;
    if (ca !== undefined) hints.push(`CA ${caPath ?? `from ${cluster?.origin ?? '?'}`}`);
    // The schema has checked that cert_file and key_file come together (checkKubeletAccess).
    const certFile = tlsConfig?.cert_file;
    const keyFile = tlsConfig?.key_file;
    const explicitCert = certFile !== undefined && keyFile !== undefined;
    // Through a kubeconfig with a client certificate, present it: kubelets trust the cluster's client CA.
    const cert = explicitCert ? file('tls.cert_file', certFile) : cluster?.tls.cert;
    const key = explicitCert ? file('tls.key_file', keyFile) : cluster?.tls.key;
    if (cert !== undefined) {
      hints.push(`client certificate ${tlsConfig?.cert_file ?? `from ${cluster?.origin ?? '?'}`}`);
    }
    const skip = tlsConfig?.insecure_skip_verify === true;
    if (skip) {
      ctx.logger.warn(
        'source.tls.insecure_skip_verify is on: kubelet certificates are NOT verified; use tls.ca_file in production',
      );
      hints.push('insecure_skip_verify');
    }
    tls = {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(tlsConfig?.server_name === undefined ? {} : { servername: tlsConfig.server_name }),
      rejectUnauthorized: !skip,
    };
  }
  // The schema rejects this too; kept here because a token is a secret, for callers that skip the schema.
  if (insecureTokenFile(config.scheme, config)) {
    throw new ConfigError([`source.auth.token_file: ${INSECURE_TOKEN_MESSAGE}`]);
  }
  const token = tokenSource(config, cluster, ctx);
  if (token.hint !== undefined) hints.push(token.hint);
  return {
    scheme: config.scheme,
    ...(tls === undefined ? {} : { tls }),
    ...(token.bearerToken === undefined ? {} : { bearerToken: token.bearerToken }),
    ...(token.authorization === undefined ? {} : { authorization: token.authorization }),
    ...(hints.length === 0 ? {} : { credentialHint: hints.join(', ') }),
  };
}

/**
 * The API server credentials for proxied scrapes. Over an `http://` server URL (`kubectl proxy`, an insecure
 * port) they are not sent unless allow_insecure_token is on: said once, when there are credentials to hold back.
 */
function proxyAuthorization(
  cluster: NonNullable<KubernetesDiscovery['access']>,
  config: KubeletAccessConfig,
  ctx: KubeletAccessContext,
): () => Promise<string | undefined> {
  if (!cluster.server.startsWith('http:') || config.allow_insecure_token === true) {
    return () => cluster.authorization();
  }
  let warned = false;
  return async () => {
    if ((await cluster.authorization()) !== undefined && !warned) {
      warned = true;
      ctx.logger.warn(
        `the API server ${cluster.server} is plain http: its credentials from ${cluster.origin} are not sent with ` +
          'proxied scrapes; use an https URL, or set source.allow_insecure_token: true',
      );
    }
    return undefined;
  };
}

function tokenSource(
  config: KubeletAccessConfig,
  cluster: KubernetesDiscovery['access'] | undefined,
  ctx: KubeletAccessContext,
): Pick<AccessOptions, 'bearerToken' | 'authorization'> & { hint?: string } {
  const auth = config.auth;
  if (auth?.token_file !== undefined) {
    const path = resolve(ctx.baseDir, auth.token_file);
    const read = rotatingTokenFile(path, ctx.clock);
    read(); // a missing token file is a config mistake: say so at start, not at every scrape
    return { bearerToken: read, hint: `token file ${path}` };
  }
  // Never send cluster credentials in clear text to the read-only port: it does not check them anyway.
  if (auth?.service_account === false || cluster === undefined || config.scheme === 'http') return {};
  if (cluster.tokenFile !== undefined) {
    return {
      bearerToken: rotatingTokenFile(cluster.tokenFile, ctx.clock),
      hint: `token file ${cluster.tokenFile}`,
    };
  }
  if (config.tls?.cert_file !== undefined) return {};
  // Through a kubeconfig, present its user's token: kubelets check it with the API server (TokenReview).
  return { authorization: () => cluster.authorization(), hint: `the token of ${cluster.origin}` };
}

function readFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([`source.${key}: cannot read ${path}: ${(err as Error).message}`], { cause: err });
  }
}
