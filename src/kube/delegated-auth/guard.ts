import type { IncomingMessage } from 'node:http';
import type { ClusterAccessOptions } from '../kubeconfig.js';
import type { Logger } from '../../component/logger.js';
import type { Telemetry } from '../../component/telemetry.js';

/** Who made a request, as Kubernetes authenticators report it (TokenReview status.user, front-proxy headers). */
export interface RequestUser {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** What a request asks for, in SubjectAccessReview terms: resource attributes or a non-resource path. */
export type RequestAttributes =
  | {
      readonly kind: 'resource';
      readonly verb: 'get' | 'list' | 'watch';
      readonly group: string;
      readonly version: string;
      readonly resource: string;
      readonly namespace?: string;
      readonly name?: string;
    }
  | { readonly kind: 'non_resource'; readonly verb: 'get'; readonly path: string };

/** A Kubernetes `Status` object, the body an API server writes with a 401, 403 or 5xx. */
export interface KubernetesStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Readonly<Record<string, never>>;
  readonly status: 'Failure';
  readonly message: string;
  /** `Unauthorized`, `Forbidden`, `InternalError`, `ServiceUnavailable`. */
  readonly reason: string;
  /** What a 403 refused, as kube-apiserver's `details` (`kind` is the resource, e.g. `pods`). */
  readonly details?: { readonly name?: string; readonly group?: string; readonly kind?: string };
  readonly code: number;
}

/** The answer for one request: go on as `user`, or send `status` with HTTP code `code`. */
export type GuardDecision =
  | { readonly allowed: true; readonly user: RequestUser }
  | { readonly allowed: false; readonly code: 401 | 403 | 500 | 503; readonly status: KubernetesStatus };

/**
 * Authenticates and authorizes requests to a server heapstream runs for Kubernetes clients (the metrics API).
 * The HTTPS server must ask for client certificates without rejecting them at the handshake
 * (`requestCert: true, rejectUnauthorized: false`): the guard verifies the peer certificate itself, against the
 * front-proxy (requestheader) CA or the client CA, so one server accepts certificates, tokens and front-proxy calls.
 * Leave the server's `ca` option unset (or list both CAs in it): Go clients (kubectl; the aggregator when its
 * certificate is static) send a certificate only if the server's advertised CA list is empty or names its issuer.
 */
export interface RequestGuard {
  check(req: IncomingMessage, attributes: RequestAttributes): Promise<GuardDecision>;
  /** Stops background work (ConfigMap refresh, cache timers). Idempotent. */
  close(): Promise<void>;
}

/** How delegated authentication and authorization reach the API server and cache its answers. */
export interface DelegatedAuthOptions {
  /** The API server to send TokenReview and SubjectAccessReview to, and to read the ConfigMap from. */
  readonly cluster: ClusterAccessOptions;
  /** How long TokenReview answers are kept (metrics-server: 10 s). */
  readonly tokenCacheTtlMs: number;
  /** How long allowed and denied SubjectAccessReview answers are kept (metrics-server: 10 s allowed, 10 s denied). */
  readonly allowCacheTtlMs: number;
  readonly denyCacheTtlMs: number;
  /** How often the `extension-apiserver-authentication` ConfigMap is re-read (default 60 s). */
  readonly configRefreshMs?: number;
}

/**
 * Builds the guard metrics-server's way: front-proxy client certificates (CA and allowed names from the
 * `extension-apiserver-authentication` ConfigMap in kube-system), bearer tokens by TokenReview, every request
 * authorized by SubjectAccessReview; answers cached for the TTLs above. Implemented in `delegated-guard.ts`.
 */
export type CreateDelegatedGuard = (
  options: DelegatedAuthOptions,
  deps: {
    readonly logger: Logger;
    readonly signal: AbortSignal;
    /** Where `heapstream_delegated_auth_errors_total{review}` is counted, when given. */
    readonly telemetry?: Telemetry;
  },
) => Promise<RequestGuard>;
