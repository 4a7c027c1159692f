import { progress } from './process.js';
import type { ManagedProcess } from './process.js';

/** A running HTTP server process (InfluxDB 1.x, VictoriaMetrics) on 127.0.0.1. */
export interface HttpService {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** The server's stdout/stderr, appended across restarts. */
  readonly logFile: string;
  /** Graceful shutdown (SIGTERM); the data dir is kept for start(). */
  stop(): Promise<void>;
  /** Starts again on the same port and data after stop(); waits until the server answers. */
  start(): Promise<void>;
}

/**
 * True when `GET url` answers with `expectedStatus` within two seconds.
 *
 * @example
 * await answersWith('http://127.0.0.1:8086/ping', 204); // true once influxd is up
 */
export async function answersWith(url: string, expectedStatus: number): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === expectedStatus;
}

/** Wraps a ManagedProcess and its readiness probe as an HttpService; starts it once before returning. */
export async function startHttpService(options: {
  readonly name: string;
  readonly url: string;
  readonly logFile: string;
  readonly process: ManagedProcess;
  readonly isReady: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
}): Promise<HttpService> {
  const proc = options.process;
  const start = async (): Promise<void> => {
    if (proc.running) return;
    const started = Date.now();
    proc.start();
    await proc.waitUntilReady(options.isReady, options.readyTimeoutMs);
    progress(`${options.name} ready on ${options.url} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  };
  await start();
  return { url: options.url, logFile: options.logFile, start, stop: () => proc.stop() };
}
