import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { clusterAccessKeys } from '../../src/kube/discovery-config.js';

/** The address and port the API listens on. */
export interface ListenAddress {
  /** '' listens on every interface. */
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_LISTEN = ':4443';

/** Parses `host:port`, `[v6]:port` or `:port`; undefined when it is none of them. */
export function parseListen(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, port };
}

/** Whether clients from other machines cannot reach this address: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

const listen = z
  .string()
  .default(DEFAULT_LISTEN)
  .transform((text, ctx) => {
    const address = parseListen(text);
    if (address === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${text}" is not an address to listen on: use host:port, [ipv6]:port or :port (every interface)`,
      });
      return z.NEVER;
    }
    return address;
  })
  .describe('host:port to serve HTTPS on; `:4443` (every interface) by default.');

export const metricsApiSinkConfig = z
  .strictObject({
    listen,
    tls: z
      .strictObject({
        cert_file: z.string().min(1).describe('PEM serving certificate (chain); re-read when it changes.'),
        key_file: z.string().min(1).describe('PEM private key of the certificate; re-read when it changes.'),
      })
      .optional()
      .describe('Serving certificate files (cert-manager style); a self-signed one is generated if absent.'),
    authentication: z
      .enum(['delegated', 'none'])
      .default('delegated')
      .describe(
        'delegated: front-proxy client certificates and bearer tokens checked with the API server, every request ' +
          'authorized by SubjectAccessReview (as metrics-server). none: no checks, only on a loopback `listen`.',
      ),
    kubernetes: z
      .strictObject(clusterAccessKeys)
      .prefault({})
      .describe('The API server that delegated authentication and authorization ask.'),
    token_cache_ttl: duration()
      .prefault('10s')
      .describe('How long a TokenReview answer is kept (metrics-server: 10s).'),
    allow_cache_ttl: duration()
      .prefault('10s')
      .describe('How long an allowed SubjectAccessReview answer is kept.'),
    deny_cache_ttl: duration()
      .prefault('10s')
      .describe('How long a denied SubjectAccessReview answer is kept.'),
  })
  .superRefine((config, ctx) => {
    if (config.authentication === 'none' && !isLoopback(config.listen.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication'],
        message:
          'authentication: none serves metrics to anyone who can connect: it needs a loopback listen address ' +
          '(127.0.0.1:PORT, [::1]:PORT or localhost:PORT); use authentication: delegated otherwise',
      });
    }
  });

export type MetricsApiSinkConfig = z.output<typeof metricsApiSinkConfig>;
