import { createHash } from 'node:crypto';
import type { ApiClient } from '../api-client.js';
import type { RequestAttributes, RequestUser } from './guard.js';
import { TtlCache } from './ttl-cache.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/** Cache bounds: enough for every caller of a busy metrics API (HPA controller, kubectl users, dashboards). */
const MAX_CACHED = 4096;

/**
 * One review per key at a time: concurrent requests with the same token or question (an HPA sync, a dashboard
 * refresh) share the call in flight instead of each sending their own, as the apiserver's token cache does.
 */
class InFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  once(key: string, call: () => Promise<T>): Promise<T> {
    const running = this.calls.get(key);
    if (running !== undefined) return running;
    const started = call().finally(() => this.calls.delete(key));
    this.calls.set(key, started);
    return started;
  }
}

/** A TokenReview's answer: who the token is, or why it is not accepted. */
export type TokenVerdict = { readonly user: RequestUser } | { readonly error: string };

/**
 * Authenticates bearer tokens by TokenReview, caching both verdicts for `ttlMs` (k8s.io/apiserver's delegating
 * authenticator caches successes and failures alike). The cache key is a SHA-256 of the token: the token itself
 * is never kept. Errors (API server unreachable, refused) propagate and are not cached.
 */
export class TokenReviewer {
  private readonly cache = new TtlCache<string, TokenVerdict>(MAX_CACHED);
  private readonly inFlight = new InFlight<TokenVerdict>();

  constructor(
    private readonly api: ApiClient,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async review(token: string, signal: AbortSignal): Promise<TokenVerdict> {
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.cache.get(key, this.now());
    if (cached !== undefined) return cached;
    return this.inFlight.once(key, async () => {
      const answer = await this.api.postJson(
        TOKEN_REVIEW_PATH,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        signal,
      );
      const verdict = tokenVerdict(answer);
      this.cache.set(key, verdict, this.ttlMs, this.now());
      return verdict;
    });
  }
}

function tokenVerdict(answer: Record<string, unknown>): TokenVerdict {
  const status = (answer.status ?? {}) as {
    authenticated?: boolean;
    error?: string;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
  const user = status.user;
  if (status.authenticated !== true || user?.username === undefined || user.username === '') {
    return { error: status.error ?? 'token not authenticated' };
  }
  return {
    user: {
      name: user.username,
      ...(user.uid === undefined || user.uid === '' ? {} : { uid: user.uid }),
      groups: user.groups ?? [],
      extra: user.extra ?? {},
    },
  };
}

/** A SubjectAccessReview's answer. `reason` is the authorizer's, often empty (RBAC gives none for no match). */
export interface AccessVerdict {
  readonly allowed: boolean;
  readonly reason: string;
}

/**
 * Authorizes by SubjectAccessReview, caching allowed answers for `allowTtlMs` and denied ones for `denyTtlMs`, as
 * k8s.io/apiserver's delegating authorizer (its webhook authorizer's two caches). Errors propagate, uncached.
 */
export class AccessReviewer {
  private readonly cache = new TtlCache<string, AccessVerdict>(MAX_CACHED);
  private readonly inFlight = new InFlight<AccessVerdict>();

  constructor(
    private readonly api: ApiClient,
    private readonly allowTtlMs: number,
    private readonly denyTtlMs: number,
    private readonly now: () => number,
  ) {}

  async review(
    user: RequestUser,
    attributes: RequestAttributes,
    signal: AbortSignal,
  ): Promise<AccessVerdict> {
    const spec = accessReviewSpec(user, attributes);
    const key = createHash('sha256').update(JSON.stringify(spec)).digest('base64');
    const cached = this.cache.get(key, this.now());
    if (cached !== undefined) return cached;
    return this.inFlight.once(key, async () => {
      const answer = await this.api.postJson(
        ACCESS_REVIEW_PATH,
        { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
        signal,
      );
      const status = (answer.status ?? {}) as {
        allowed?: boolean;
        reason?: string;
        evaluationError?: string;
      };
      const verdict = {
        allowed: status.allowed === true,
        reason: status.reason ?? status.evaluationError ?? '',
      };
      this.cache.set(key, verdict, verdict.allowed ? this.allowTtlMs : this.denyTtlMs, this.now());
      return verdict;
    });
  }
}

/** The SubjectAccessReview spec for a user and a request, as the webhook authorizer builds it. */
export function accessReviewSpec(user: RequestUser, attributes: RequestAttributes): Record<string, unknown> {
  const subject = {
    user: user.name,
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    groups: [...user.groups],
    ...(Object.keys(user.extra).length === 0 ? {} : { extra: user.extra }),
  };
  if (attributes.kind === 'non_resource') {
    return { ...subject, nonResourceAttributes: { path: attributes.path, verb: attributes.verb } };
  }
  const { verb, group, version, resource, namespace, name } = attributes;
  return {
    ...subject,
    resourceAttributes: {
      verb,
      group,
      version,
      resource,
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
    },
  };
}
