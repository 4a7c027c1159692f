import type { PipelineConfig } from '../config/index.js';
import type { Clock } from '../component/clock.js';
import { ConfigError } from '../component/errors.js';
import { HealthChecker } from '../engine/health.js';
import type { Logger } from '../component/logger.js';
import { startOpsServer, type OpsServer } from '../engine/ops-server.js';
import type { Pipeline } from '../engine/pipeline.js';
import { PrometheusExporter } from '../engine/prometheus.js';
import type { Telemetry } from '../component/telemetry.js';
import { readSecret } from '../component/secrets.js';
import type { LiveStore } from '../engine/live/store.js';

/**
 * Starts the live view, /metrics, /livez and /readyz when the config has a `server` key; returns a stop function
 * and the server's URL.
 */
export async function startOps(
  config: PipelineConfig,
  pipeline: () => Pipeline | undefined,
  telemetry: Telemetry,
  clock: Clock,
  logger: Logger,
  liveView?: LiveStore,
): Promise<{ stop: () => Promise<void>; url?: string }> {
  if (config.server === undefined) return { stop: () => Promise.resolve() };
  const token = readSecret(config.server.token, config.server.token_file, config.baseDir, 'server.token');
  if (token === undefined && !isLoopback(config.server.address)) {
    // Refusing would break the common case (Prometheus and kubelet probes on a pod's address); say it instead.
    logger.warn(
      { address: config.server.address },
      'server.address is beyond loopback and server.token is not set: anyone who reaches the port sees the ' +
        'live view (pod and node names) and /metrics',
    );
  }
  const health = new HealthChecker(telemetry, clock, () => pipeline()?.sinkNames ?? [], {
    maxCycleAgeMs: config.server.ready.max_cycle_age ?? 3 * config.resolutionMs,
    minNodeShare: config.server.ready.min_node_share,
    sinkWindowMs: config.server.ready.sink_window,
    maxLoopStallMs: 10_000,
  });
  // The beat proves the event loop still runs; unref so it never keeps the process alive on its own.
  const beat = setInterval(() => health.beat(), 1000);
  beat.unref();
  let server: OpsServer;
  try {
    server = await startOpsServer({
      address: config.server.address,
      port: config.server.port,
      exporter: new PrometheusExporter(telemetry),
      health,
      ...(liveView === undefined ? {} : { liveView }),
      ...(token === undefined ? {} : { token }),
    });
  } catch (err) {
    clearInterval(beat);
    // A port in use is a config mistake only found at start: the CLI says so in one line.
    throw new ConfigError(
      [
        `server.port: cannot listen on ${config.server.address}:${config.server.port} (${(err as Error).message}); ` +
          'change server.port or server.address',
      ],
      { cause: err },
    );
  }
  logger.info({ url: server.url }, `self-metrics on ${server.url}/metrics, health on /livez and /readyz`);
  return {
    url: server.url,
    stop: async () => {
      clearInterval(beat);
      await server.close();
    },
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches. */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}
