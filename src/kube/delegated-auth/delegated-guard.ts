import type { IncomingMessage } from 'node:http';
import { LogLimiter } from '../../component/log-limiter.js';
import type { Logger } from '../../component/logger.js';
import type { Telemetry } from '../../component/telemetry.js';
import { ApiClient, ApiError } from '../api-client.js';
import { resolveClusterAccess } from '../kubeconfig.js';
import { authenticateCertificate, bearerToken, withAuthenticated } from './authenticate.js';
import { hasPeerCertificate } from './certificate-chain.js';
import { AuthConfigSource, timeout } from './config-source.js';
import type {
  CreateDelegatedGuard,
  GuardDecision,
  RequestAttributes,
  RequestGuard,
  RequestUser,
} from './guard.js';
import { AccessReviewer, TokenReviewer } from './reviews.js';
import { forbidden, internalError, serviceUnavailable, unauthorized } from './statuses.js';

/** k8s.io/apiserver's DelegatingAuthorizationOptions defaults: health paths need no authorization. */
const ALWAYS_ALLOW_PATHS = new Set(['/healthz', '/readyz', '/livez']);
/** ... and system:masters may do anything without a SubjectAccessReview. */
const ALWAYS_ALLOW_GROUP = 'system:masters';
const ANONYMOUS: RequestUser = { name: 'system:anonymous', groups: ['system:unauthenticated'], extra: {} };
/** How often the extension-apiserver-authentication ConfigMap is re-read when the options do not say. */
export const DEFAULT_CONFIG_REFRESH_MS = 60_000;
export const ERRORS_METRIC = 'heapstream_delegated_auth_errors_total';

type Review = 'configmap' | 'tokenreview' | 'subjectaccessreview';

/**
 * Builds the RequestGuard metrics-server's way (see guard.ts): reads the auth ConfigMap at once (a failure is
 * logged, not thrown, so the server starts and tokens still work) and every `configRefreshMs` after.
 *
 * @example
 * const guard = await createDelegatedGuard(
 *   { cluster: { inCluster: true, clock }, tokenCacheTtlMs: 10_000, allowCacheTtlMs: 10_000, denyCacheTtlMs: 10_000 },
 *   { logger, signal },
 * );
 * const decision = await guard.check(req, { kind: 'resource', verb: 'list', group: 'metrics.k8s.io',
 *   version: 'v1beta1', resource: 'pods' });
 */
export const createDelegatedGuard: CreateDelegatedGuard = async (options, deps) => {
  const access = await resolveClusterAccess(options.cluster);
  const api = new ApiClient(access, { connections: 4 });
  const clock = options.cluster.clock;
  const now = () => clock.now();
  const closing = new AbortController();
  const signal = AbortSignal.any([deps.signal, closing.signal]);
  const limiter = new LogLimiter(deps.logger, clock, 60_000);
  const count = errorCounter(deps.telemetry);
  const config = new AuthConfigSource(api, limiter, () => count('configmap'), signal);
  await config.load();
  config.start(options.configRefreshMs ?? DEFAULT_CONFIG_REFRESH_MS);
  const tokens = new TokenReviewer(api, options.tokenCacheTtlMs, now);
  const accessReviews = new AccessReviewer(api, options.allowCacheTtlMs, options.denyCacheTtlMs, now);
  const failure = failureReporter(limiter, deps.logger, count, access.server);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      config.stop();
      closing.abort();
      await api.close();
    })());
  deps.signal.addEventListener('abort', () => void close(), { once: true });

  const authenticate = async (
    req: IncomingMessage,
  ): Promise<RequestUser | 'anonymous' | Extract<GuardDecision, { allowed: false }>> => {
    const current = config.current;
    const byCertificate =
      current === undefined ? undefined : authenticateCertificate(req, current, clock.now());
    if (byCertificate?.kind === 'user') return byCertificate.user;
    if (byCertificate?.why !== undefined)
      deps.logger.debug({ why: byCertificate.why }, 'client certificate ignored');
    const token = bearerToken(req);
    if (token === undefined) {
      if (current === undefined && hasPeerCertificate(req)) {
        return serviceUnavailable(
          'the authentication configuration has not been read from the API server yet',
        );
      }
      return 'anonymous';
    }
    try {
      const verdict = await tokens.review(token, AbortSignal.any([signal, timeout()]));
      return 'user' in verdict ? withAuthenticated(verdict.user) : unauthorized();
    } catch (err) {
      return failure('tokenreview', err);
    }
  };

  return {
    async check(req, attributes) {
      const user = await authenticate(req);
      if (user === 'anonymous') {
        // k8s.io/apiserver lets anonymous requests reach the authorizer; here they stop at 401 (the issue's
        // contract), except for the health paths its authorizer always allows, so probes need no credentials.
        if (attributes.kind === 'non_resource' && ALWAYS_ALLOW_PATHS.has(attributes.path)) {
          return { allowed: true, user: ANONYMOUS };
        }
        return unauthorized();
      }
      if ('allowed' in user) return user;
      return authorize(user, attributes);
    },
    close,
  } satisfies RequestGuard;

  async function authorize(user: RequestUser, attributes: RequestAttributes): Promise<GuardDecision> {
    if (attributes.kind === 'non_resource' && ALWAYS_ALLOW_PATHS.has(attributes.path)) {
      return { allowed: true, user };
    }
    if (user.groups.includes(ALWAYS_ALLOW_GROUP)) return { allowed: true, user };
    try {
      const verdict = await accessReviews.review(user, attributes, AbortSignal.any([signal, timeout()]));
      return verdict.allowed ? { allowed: true, user } : forbidden(attributes, user.name, verdict.reason);
    } catch (err) {
      return failure('subjectaccessreview', err);
    }
  }
};

function errorCounter(telemetry: Telemetry | undefined): (review: Review) => void {
  telemetry?.describe(
    ERRORS_METRIC,
    'Delegated authentication/authorization calls to the API server that failed, by review (configmap, tokenreview, subjectaccessreview).',
  );
  return (review) => telemetry?.counter(ERRORS_METRIC, { review }).inc();
}

/**
 * Turns a failed review into the answer and a rate-limited log line: 503 when the API server could not be asked
 * (unreachable, timeout, 5xx, 429: worth retrying), 500 when it refused (a missing RBAC binding: not transient).
 * The Status body names neither the API server nor the error; the log line does.
 */
function failureReporter(
  limiter: LogLimiter,
  logger: Logger,
  count: (review: Review) => void,
  server: string,
): (review: Review, err: unknown) => Extract<GuardDecision, { allowed: false }> {
  return (review, err) => {
    count(review);
    const status = err instanceof ApiError ? err.status : 0;
    const transient = status === 0 || status === 429 || status >= 500;
    limiter.log(
      transient ? 'warn' : 'error',
      `delegated-auth:${review}:${status}`,
      { review, server, status, err: (err as Error).message },
      `the ${review} request to the API server failed; requests that need it are refused`,
    );
    logger.debug({ review, err }, 'delegated authentication failure detail');
    const kind = review === 'tokenreview' ? 'TokenReview' : 'SubjectAccessReview';
    return transient
      ? serviceUnavailable(`the API server could not be reached for a ${kind}; retry later`)
      : internalError(`the API server refused the ${kind} (HTTP ${status}); see the heapstream log`);
  };
}
