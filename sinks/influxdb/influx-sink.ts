import type { ComponentContext, Sink } from '../../src/component/component.js';
import { readSecret } from '../../src/component/secrets.js';
import { HeapstreamError, PermanentError, RetryableError } from '../../src/component/errors.js';
import type { MetricBatch } from '../../src/model/types.js';
import { writeAllPieces, type EncodedBatch, type PieceWriter } from '../../src/component/pieces.js';
import type { InfluxSinkConfig } from './config.js';
import { LineProtocolEncoder, type Chunk } from './encode.js';
import {
  describeRejection,
  isLineRejection,
  responseError,
  serverMessage,
  shortMessage,
  type Rejection,
} from './responses.js';
import { v1Target, v2Target, type WriteTarget } from './targets.js';

/** One batch's bodies and the lines InfluxDB refused in them (a partial write), reported once all are posted. */
interface EncodedLines {
  readonly chunks: readonly Chunk[];
  readonly rejections: Rejection[];
}

/** One body of one batch: the runner posts each as its own request and resends from the one that failed. */
interface Body {
  readonly chunk: Chunk;
  readonly of: EncodedLines;
}

/** Builds the write target the config names, reading `*_file` secrets relative to the pipeline file. */
export function targetFor(config: InfluxSinkConfig, baseDir: string): WriteTarget {
  if (config.api === 'v1') {
    return v1Target({
      url: config.url,
      database: config.database ?? 'k8s',
      retentionPolicy: config.retention_policy,
      username: config.username,
      password: readSecret(config.password, config.password_file, baseDir, 'password'),
      createDatabase: config.create_database,
      precision: config.precision,
      gzip: config.gzip,
      timeoutMs: config.timeout,
    });
  }
  return v2Target({
    url: config.url,
    org: config.org,
    bucket: config.bucket as string,
    token: readSecret(config.token, config.token_file, baseDir, 'token'),
    precision: config.precision,
    gzip: config.gzip,
    timeoutMs: config.timeout,
  });
}

/**
 * The InfluxDB sink: encodes each batch to line protocol and posts it in bodies bounded by `batch.max_lines`
 * and `batch.max_bytes`. A write resolves once every body is accepted. Refused connections, timeouts, 408,
 * 429 and 5xx are RetryableError (with the server's Retry-After, which the sink also honours itself by not
 * posting before then); lines InfluxDB rejects (400 partial write) are reported with a sample as a
 * PermanentError once the rest of the batch is written; bad credentials and a missing database are
 * PermanentError at once.
 *
 * The sink keeps no queue and no progress: it is a piecewise sink (see PieceWriter) whose pieces are the bodies,
 * so the runner resends a retried batch from the body that failed, not from the start.
 *
 * @example
 * const sink = influxSink(influxSinkConfig.parse({ url: 'http://127.0.0.1:8086', api: 'v1' }), ctx);
 * await sink.connect?.(); await sink.write(batch); await sink.close();
 */
export function influxSink(
  config: InfluxSinkConfig,
  ctx: ComponentContext,
  target: WriteTarget = targetFor(config, ctx.baseDir),
): Sink {
  const encoder = new LineProtocolEncoder({
    schema: config.schema,
    clusterName: config.cluster_name,
    precision: config.precision,
    maxLines: config.batch.max_lines,
    maxBytes: config.batch.max_bytes,
    disableCounterMetrics: config.disable_counter_metrics,
    excludeTags: config.exclude_tags,
  });
  // One controller per request, aborted by close(): a long-lived signal shared by every request would collect
  // one abort listener per request in the HTTP client, never removed.
  const inFlight = new Set<AbortController>();
  let closed: Promise<void> | undefined;
  let notBefore = 0;

  const labels = { sink: ctx.id };
  const t = ctx.telemetry;
  t.describe('heapstream_influxdb_lines_written_total', 'Lines InfluxDB accepted.');
  t.describe(
    'heapstream_influxdb_bytes_written_total',
    'Uncompressed line-protocol bytes InfluxDB accepted.',
  );
  t.describe(
    'heapstream_influxdb_requests_total',
    'Write requests, by HTTP status (`error` when none came).',
  );
  t.describe('heapstream_influxdb_rejected_lines_total', 'Lines InfluxDB refused in a partial write.');
  t.describe(
    'heapstream_influxdb_skipped_values_total',
    'Values not written because they are NaN or infinite.',
  );
  const linesWritten = t.counter('heapstream_influxdb_lines_written_total', labels);
  const bytesWritten = t.counter('heapstream_influxdb_bytes_written_total', labels);
  const rejectedLines = t.counter('heapstream_influxdb_rejected_lines_total', labels);
  const skippedValues = t.counter('heapstream_influxdb_skipped_values_total', labels);
  const requests = new Map<string, { inc(by?: number): void }>();
  const countRequest = (status: string): void => {
    let counter = requests.get(status);
    if (counter === undefined) {
      counter = t.counter('heapstream_influxdb_requests_total', { ...labels, status });
      requests.set(status, counter);
    }
    counter.inc();
  };

  function transportError(error: unknown, what: string): RetryableError {
    const reason = error instanceof Error ? error.message : String(error);
    return new RetryableError(`sink ${ctx.id}: ${what} ${target.description} failed: ${reason}`, {
      cause: error,
    });
  }

  function encode(batch: MetricBatch): EncodedBatch<Body> {
    const encoded = encoder.encode(batch);
    if (encoded.skipped > 0) skippedValues.inc(encoded.skipped);
    const lines: EncodedLines = { chunks: encoded.chunks, rejections: [] };
    return {
      pieces: encoded.chunks.map((chunk) => ({ chunk, of: lines })),
      settle: () => (lines.rejections.length > 0 ? rejectionError(lines) : undefined),
    };
  }

  function rejectionError(state: EncodedLines): PermanentError {
    let dropped = 0;
    for (const r of state.rejections) dropped += r.dropped;
    const first = state.rejections[0] as Rejection;
    const total = state.chunks.reduce((n, c) => n + c.lines, 0);
    return new PermanentError(
      `sink ${ctx.id}: ${target.description} rejected ${dropped} of ${total} lines (${shortMessage(first.message)}); ` +
        `sample: ${first.sample.join(' | ')}`,
      // The other lines are written and the refused ones counted: nothing of the batch is to be sent again.
      { partial: true },
    );
  }

  async function post(body: Body): Promise<void> {
    if (closed !== undefined) throw new PermanentError(`sink ${ctx.id}: write after close`);
    const wait = notBefore - ctx.clock.now();
    if (wait > 0) {
      throw new RetryableError(`sink ${ctx.id}: ${target.description} asked to wait ${wait} ms more`, {
        retryAfterMs: wait,
      });
    }
    const chunk = body.chunk;
    let failed;
    const abort = new AbortController();
    inFlight.add(abort);
    try {
      failed = await target.post(chunk.body, abort.signal);
    } catch (error) {
      countRequest('error');
      throw error instanceof HeapstreamError ? error : transportError(error, 'writing to');
    } finally {
      inFlight.delete(abort);
    }
    countRequest(failed === undefined ? '2xx' : String(failed.status));
    if (failed === undefined) {
      linesWritten.inc(chunk.lines);
      bytesWritten.inc(chunk.bytes);
    } else if (isLineRejection(failed.status, serverMessage(failed.body))) {
      const rejection = describeRejection(serverMessage(failed.body), chunk.body, chunk.lines);
      body.of.rejections.push(rejection);
      rejectedLines.inc(rejection.dropped);
      linesWritten.inc(Math.max(0, chunk.lines - rejection.dropped));
    } else {
      const error = responseError(ctx.id, target.description, failed, ctx.clock.now());
      if (error instanceof RetryableError && error.retryAfterMs !== undefined) {
        notBefore = ctx.clock.now() + error.retryAfterMs;
      }
      throw error;
    }
  }

  // No `merge`: each body is its own request, already bounded by batch.max_lines and batch.max_bytes.
  const pieces: PieceWriter<Body> = {
    encode,
    send: async (bodies) => {
      for (const body of bodies) await post(body);
    },
  };

  return {
    pieces,

    async connect() {
      let failed;
      try {
        failed = await target.connect();
      } catch (error) {
        throw transportError(error, 'connecting to');
      }
      if (failed !== undefined) throw responseError(ctx.id, target.description, failed, ctx.clock.now());
    },

    write: (batch) => writeAllPieces(pieces, batch),

    close() {
      closed ??= (async () => {
        for (const abort of inFlight) abort.abort();
        await target.close();
      })();
      return closed;
    },
  };
}
