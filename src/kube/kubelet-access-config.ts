import { z } from 'zod';
import { shardingSchema } from './sharding-config.js';
import { duration } from '../component/duration.js';
import { DEFAULT_MAX_SETS_PER_NODE } from '../model/decode-report.js';
import type { DiscoveryConfig } from './discovery-config.js';

/** `tls:` — how a kubelet source checks kubelets' certificates and presents its own. */
export const kubeletTlsSchema = z.strictObject({
  ca_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      "CA bundle that signed the kubelets' serving certificates; in-cluster default: the service-account CA.",
    ),
  cert_file: z.string().min(1).optional().describe('Client certificate presented to kubelets (PEM).'),
  key_file: z.string().min(1).optional().describe('Private key of cert_file (PEM); never logged.'),
  server_name: z
    .string()
    .min(1)
    .optional()
    .describe('Name to verify the kubelet certificate against, for certificates without IP SANs.'),
  insecure_skip_verify: z
    .boolean()
    .default(false)
    .describe('Do not verify kubelet certificates at all. Logged as a warning; for test clusters only.'),
});

/** `auth:` — the bearer token sent to kubelets. */
export const kubeletAuthSchema = z.strictObject({
  token_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File holding a bearer token, re-read when it rotates; in-cluster default: the service-account token.',
    ),
  service_account: z
    .boolean()
    .optional()
    .describe(
      'Send the in-cluster service-account token (default when running in-cluster); false sends none.',
    ),
});

/**
 * The kubelet-access keys every kubelet source shares: spread into a source's config schema.
 *
 * @example
 * export const mySourceConfig = z.strictObject({ discovery: discoverySchema, ...kubeletAccessShape });
 */
export const kubeletAccessShape = {
  via: z
    .enum(['direct', 'apiserver_proxy'])
    .default('direct')
    .describe(
      '`direct` to each kubelet, or `apiserver_proxy` through /api/v1/nodes/<name>/proxy (needs kubernetes discovery).',
    ),
  tls: kubeletTlsSchema.optional().describe('Kubelet TLS: CA, client certificate, server name.'),
  auth: kubeletAuthSchema.optional().describe('Kubelet authentication: bearer token.'),
  allow_insecure_token: z
    .boolean()
    .default(false)
    .describe(
      'Send a bearer token over plain http (auth.token_file with scheme: http, or the API server credentials when its URL is http). Anyone on the path can read it; logged as a warning.',
    ),
};

export interface KubeletAccessConfig {
  readonly scheme: 'http' | 'https';
  readonly via: 'direct' | 'apiserver_proxy';
  readonly tls?: z.output<typeof kubeletTlsSchema>;
  readonly auth?: z.output<typeof kubeletAuthSchema>;
  readonly allow_insecure_token?: boolean;
}

/** Why a bearer token is refused over plain http, for the schema check and the start-up check alike. */
export const INSECURE_TOKEN_MESSAGE =
  'a bearer token is sent only over TLS: use scheme: https, or set allow_insecure_token: true ' +
  '(the token then crosses the network in clear text)';

/** The keys the static checks of kubelet access read: the scheme as written, discovery, via, tls, auth. */
export interface KubeletAccessKeys extends TokenTransport {
  /** As written; undefined lets `kubeletScheme` pick it from discovery. */
  readonly scheme?: 'http' | 'https' | undefined;
  readonly discovery: DiscoveryConfig;
  readonly tls?:
    { readonly cert_file?: string | undefined; readonly key_file?: string | undefined } | undefined;
}

/**
 * The scheme a kubelet source uses: the one written, else plain http for a simulated cluster (its fake kubelets
 * serve http only), else the source's own default (https for the kubelet's secure port).
 *
 * @example
 * kubeletScheme({ discovery: { simulated: { nodes: 3, port: 0, first_address: '127.0.1.1', seed: 1 } } }) // 'http'
 */
export function kubeletScheme(
  config: { readonly scheme?: 'http' | 'https' | undefined; readonly discovery: DiscoveryConfig },
  fallback: 'http' | 'https' = 'https',
): 'http' | 'https' {
  return config.scheme ?? (config.discovery.simulated !== undefined ? 'http' : fallback);
}

/**
 * The static checks of the kubelet-access keys, for a source schema's `superRefine`, so that `validate` rejects
 * what `run` would, each at the key that is wrong: `scheme: https` with a simulated cluster (it serves http);
 * `via: apiserver_proxy` without kubernetes discovery; `tls.cert_file` without `tls.key_file` or the other way
 * round; `tls` with plain http; `auth.token_file` with plain http unless `allow_insecure_token: true`.
 * `fallback` is the source's scheme when neither the config nor discovery decides it.
 *
 * @example
 * z.strictObject({ discovery: discoverySchema, ...kubeletEndpointShape, ...kubeletAccessShape })
 *   .superRefine((config, ctx) => checkKubeletAccess(config, 'https', ctx));
 */
export function checkKubeletAccess(
  config: KubeletAccessKeys,
  fallback: 'http' | 'https',
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const scheme = kubeletScheme(config, fallback);
  if (config.discovery.simulated !== undefined && config.scheme === 'https') {
    issue(['scheme'], SIMULATED_HTTPS_MESSAGE);
  }
  if (config.via === 'apiserver_proxy' && config.discovery.kubernetes === undefined) {
    issue(['via'], APISERVER_PROXY_DISCOVERY_MESSAGE);
  }
  const tls = config.tls;
  if (tls !== undefined && config.via === 'direct') {
    if (scheme === 'http') {
      issue(['tls'], `set only with scheme: https; this source scrapes plain http (${httpBecause(config)})`);
    } else if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
      const [given, missing] =
        tls.cert_file === undefined ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
      issue(['tls', given], `needs ${missing} too: the client certificate and its private key go together`);
    }
  }
  if (insecureTokenFile(scheme, config)) issue(['auth', 'token_file'], INSECURE_TOKEN_MESSAGE);
}

/** Why a simulated cluster cannot be scraped over https. */
export const SIMULATED_HTTPS_MESSAGE =
  "a simulated cluster's kubelets serve plain http: leave scheme out (it is then http) or set scheme: http";

/** Why the API-server proxy needs kubernetes discovery. */
export const APISERVER_PROXY_DISCOVERY_MESSAGE =
  'apiserver_proxy scrapes through the API server, so it needs `discovery: { kubernetes: … }`; use via: direct ' +
  'with static or simulated discovery';

function httpBecause(config: KubeletAccessKeys): string {
  if (config.scheme === 'http') return 'scheme: http';
  if (config.discovery.simulated !== undefined) return 'a simulated cluster serves http';
  return 'the default scheme of this source';
}

/** The keys that decide whether a token file may be sent. */
export interface TokenTransport {
  readonly via: KubeletAccessConfig['via'];
  readonly auth?: { readonly token_file?: string | undefined } | undefined;
  readonly allow_insecure_token?: boolean | undefined;
}

/** True when `auth.token_file` would go to kubelets over plain http without the user's explicit consent. */
export function insecureTokenFile(scheme: 'http' | 'https', config: TokenTransport): boolean {
  return (
    config.via === 'direct' &&
    scheme === 'http' &&
    config.auth?.token_file !== undefined &&
    config.allow_insecure_token !== true
  );
}

/**
 * `max_response_bytes` with a source's own default: the sources' payloads differ in size by two orders of
 * magnitude, and the limit should sit above any real node's answer but well below what would strain memory.
 *
 * @example
 * export const mySourceConfig = z.strictObject({ ...kubeletScrapeShape, max_response_bytes: maxResponseBytes(16 << 20) });
 */
export function maxResponseBytes(defaultBytes: number) {
  return z
    .number()
    .int()
    .min(1024)
    .default(defaultBytes)
    .describe('A larger response fails that node with reason too_large, while it is read.');
}

/**
 * The scrape limits every kubelet source has: a deadline, a concurrency limit, a response size limit (64 MiB
 * unless the source sets its own with maxResponseBytes) and a limit on metric sets per node.
 *
 * @example
 * export const mySourceConfig = z.strictObject({ discovery: discoverySchema, ...kubeletScrapeShape });
 */
export const kubeletScrapeShape = {
  timeout: duration().prefault('5s').describe('Deadline for one node scrape, from request to last byte.'),
  concurrency: z.number().int().min(1).default(256).describe('Scrapes in flight at once.'),
  max_response_bytes: maxResponseBytes(64 * 1024 * 1024),
  max_sets_per_node: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_SETS_PER_NODE)
    .describe(
      'A node whose answer holds more metric sets (cAdvisor v1: containers) fails with reason too_large, before the rest is decoded.',
    ),
  sharding: shardingSchema
    .optional()
    .describe(
      'Split the nodes between collector replicas through a Kafka consumer group: each scrapes the nodes of the partitions it holds.',
    ),
};

/** Where a kubelet listens: the secure port with https by default, or the read-only port with http. */
export const kubeletEndpointShape = {
  // No default here: it follows from discovery (see kubeletScheme), and an explicit https with a simulated
  // cluster is an error only when the user wrote it.
  scheme: z
    .enum(['http', 'https'])
    .optional()
    .describe(
      'https for port 10250, http for the read-only 10255. Default: http with `discovery: { simulated }`, else https.',
    ),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(10250)
    .describe('Kubelet port, unless discovery names one.'),
};
