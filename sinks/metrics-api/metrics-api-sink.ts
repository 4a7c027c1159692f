import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import type { ComponentContext, Sink } from '../../src/component/component.js';
import { ConfigError, RetryableError } from '../../src/component/errors.js';
import type {
  CreateDelegatedGuard,
  DelegatedAuthOptions,
  RequestGuard,
} from '../../src/kube/delegated-auth/guard.js';
import type { CycleEnd, MetricBatch } from '../../src/model/types.js';
import { MetricsApi } from './api.js';
import type { MetricsApiSinkConfig } from './config.js';
import { selfSignedCertificate } from './self-signed.js';
import { MetricsApiServer, type ServingCertificate } from './server.js';
import { LatestPointsStore } from './store.js';
import { HEAPSTREAM_VERSION } from '../../src/component/version.js';

/** What the sink needs from outside its folder, injected so tests and the composition root choose. */
export interface MetricsApiSinkDeps {
  /** Builds the guard for `authentication: delegated` (the definition passes src/kube's createDelegatedGuard). */
  readonly createGuard: CreateDelegatedGuard;
  /** The version `/version` reports. */
  readonly version?: string;
  /** How often the certificate files are checked for a change; default 10 s (the API server's reload is 1 min). */
  readonly certificateCheckMs?: number;
}

/** The sink, with what tests and the bench look at. */
export interface MetricsApiSink extends Sink {
  readonly store: LatestPointsStore;
  /** The bound address once connected. */
  address(): { readonly host: string; readonly port: number } | undefined;
  /** Checks the certificate files now (the timer does the same); true when it loaded a new pair. */
  checkCertificateFiles(): Promise<boolean>;
}

const DEFAULT_CERT_CHECK_MS = 10_000;

/** `authentication: none`: every request allowed. The schema accepts it only on a loopback address. */
const ALLOW_ALL: RequestGuard = {
  check: () => Promise.resolve({ allowed: true, user: { name: 'system:anonymous', groups: [], extra: {} } }),
  close: () => Promise.resolve(),
};

/** The config's delegated-auth keys as the guard's options. */
export function delegatedAuthOptions(
  config: MetricsApiSinkConfig,
  ctx: ComponentContext,
): DelegatedAuthOptions {
  const k = config.kubernetes;
  return {
    cluster: {
      clock: ctx.clock,
      ...(k.kubeconfig === undefined ? {} : { kubeconfig: k.kubeconfig }),
      ...(k.context === undefined ? {} : { context: k.context }),
      ...(k.in_cluster === undefined ? {} : { inCluster: k.in_cluster }),
    },
    tokenCacheTtlMs: config.token_cache_ttl,
    allowCacheTtlMs: config.allow_cache_ttl,
    denyCacheTtlMs: config.deny_cache_ttl,
  };
}

/**
 * The `metrics_api` sink: keeps the latest node and pod usage from node batches and serves it as
 * `metrics.k8s.io/v1beta1` over HTTPS. The server starts at `connect()`.
 *
 * @example
 * const sink = createMetricsApiSink(config, ctx, { createGuard: createDelegatedGuard });
 */
export function createMetricsApiSink(
  config: MetricsApiSinkConfig,
  ctx: ComponentContext,
  deps: MetricsApiSinkDeps,
): MetricsApiSink {
  // Kept across a config reload that changes this sink, so the API stays ready instead of waiting two cycles.
  const store = ctx.keep(
    `metrics_api store ${ctx.id} resolution=${ctx.resolutionMs}`,
    () => new LatestPointsStore({ resolutionMs: ctx.resolutionMs, now: () => ctx.clock.now() }),
  );
  const api = new MetricsApi(store, ctx.metadata, () => ctx.clock.now(), deps.version ?? HEAPSTREAM_VERSION);
  let server: MetricsApiServer | undefined;
  let guard: RequestGuard | undefined;
  let bound: { host: string; port: number } | undefined;
  let certTimer: Subscription | undefined;
  let closed = false;

  async function makeGuard(): Promise<RequestGuard> {
    if (config.authentication === 'none') return ALLOW_ALL;
    return deps.createGuard(delegatedAuthOptions(config, ctx), { logger: ctx.logger, signal: ctx.signal });
  }

  function certificate(): ServingCertificate {
    if (config.tls !== undefined) {
      return { kind: 'files', certFile: config.tls.cert_file, keyFile: config.tls.key_file };
    }
    const names = ['localhost', '127.0.0.1', '::1', hostname()];
    if (config.listen.host !== '' && !names.includes(config.listen.host)) names.push(config.listen.host);
    // Clients check validity against their own wall clock: the real one, not the pipeline's (maybe virtual) clock.
    return {
      kind: 'generated',
      ...selfSignedCertificate('heapstream-metrics-api', names, new Date()),
    };
  }

  return {
    store,
    address: () => bound,
    checkCertificateFiles: () => server?.checkCertificateFiles() ?? Promise.resolve(false),

    async connect() {
      if (server !== undefined || closed) return;
      guard = await makeGuard();
      const started = new MetricsApiServer({
        api,
        store,
        guard,
        certificate: certificate(),
        logger: ctx.logger,
      });
      try {
        const address = await started.listen(config.listen.host, config.listen.port);
        bound = { host: address.address, port: address.port };
      } catch (err) {
        await guard.close();
        guard = undefined;
        const code = (err as NodeJS.ErrnoException).code;
        const where = `${config.listen.host}:${config.listen.port}`;
        if (code === 'EADDRINUSE') {
          // A reload's old sink may still hold the port for a moment: retried.
          throw new RetryableError(`listen: ${where} is in use`, { cause: err });
        }
        if (code === 'ENOENT' || code === 'EACCES') {
          throw new ConfigError([`tls: cannot read the serving certificate: ${(err as Error).message}`], {
            cause: err,
          });
        }
        throw new ConfigError([`listen: cannot listen on ${where}: ${(err as Error).message}`], {
          cause: err,
        });
      }
      server = started;
      ctx.logger.info({ listen: `${bound.host}:${bound.port}` }, 'metrics API serving');
      if (config.tls !== undefined) {
        const every = deps.certificateCheckMs ?? DEFAULT_CERT_CHECK_MS;
        certTimer = ctx.clock.scheduler.schedule(function check() {
          void started.checkCertificateFiles();
          this.schedule(undefined, every);
        }, every);
      }
    },

    write(batch: MetricBatch) {
      // Cluster batches (namespace and cluster sums) have nothing the metrics API serves.
      if (batch.scope === 'node') store.write(batch);
      return Promise.resolve();
    },

    cycleEnd(_mark: CycleEnd) {
      store.endCycle();
      return Promise.resolve();
    },

    async close() {
      closed = true;
      certTimer?.unsubscribe();
      certTimer = undefined;
      await server?.close();
      server = undefined;
      await guard?.close();
      guard = undefined;
    },
  };
}
