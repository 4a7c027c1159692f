import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { Agent, request } from 'undici';
import { credentialsOf, redact } from '../../src/component/redact.js';
import type { Precision } from './line-protocol.js';
import type { FailedResponse } from './responses.js';

const gzip = promisify(gzipCallback);

/** Bodies below this are sent as they are: compressing them costs more than it saves (the client's default). */
export const GZIP_THRESHOLD = 1000;

/** Where lines go: InfluxDB's v1 `/write` or the v2 `/api/v2/write`, behind one shape. */
export interface WriteTarget {
  /** For messages: `database "k8s" at http://…`. */
  readonly description: string;
  /** Checks that the server answers and prepares it (CREATE DATABASE when asked); throws a FailedResponse. */
  connect(): Promise<FailedResponse | undefined>;
  /** Posts one body; a non-2xx answer is returned, a transport failure (refused, reset, timeout) thrown. */
  post(body: string, signal: AbortSignal): Promise<FailedResponse | undefined>;
  close(): Promise<void>;
}

export interface V1Options {
  readonly url: string;
  readonly database: string;
  readonly retentionPolicy: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly createDatabase: boolean;
  readonly precision: Precision;
  readonly gzip: boolean;
  readonly timeoutMs: number;
}

// InfluxDB 1.x reads `precision=us` as nanoseconds (its parser knows only n, u, ms, s, m, h), so map ours.
const V1_PRECISION: Readonly<Record<Precision, string>> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** InfluxQL identifier quoting: double quotes, with `"` and `\` escaped. */
function quoteIdentifier(name: string): string {
  let out = '"';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    out += c === '"' || c === '\\' ? '\\' + c : c;
  }
  return out + '"';
}

/**
 * InfluxDB 1.x: `POST /write?db=&rp=&precision=` with basic auth, over undici with kept-alive connections.
 *
 * @example
 * const target = v1Target({ url: 'http://127.0.0.1:8086', database: 'k8s', precision: 'ms', … });
 */
export function v1Target(options: V1Options): WriteTarget {
  const base = options.url.replace(/\/+$/, '');
  const dispatcher = new Agent({
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs },
  });
  const params = new URLSearchParams({ db: options.database, precision: V1_PRECISION[options.precision] });
  if (options.retentionPolicy !== undefined) params.set('rp', options.retentionPolicy);
  const writeUrl = `${base}/write?${params.toString()}`;
  const auth =
    options.username === undefined
      ? undefined
      : 'Basic ' + Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
  const headers = (extra: Record<string, string>): Record<string, string> =>
    auth === undefined ? extra : { ...extra, authorization: auth };

  async function send(
    url: string,
    method: 'GET' | 'POST',
    body: string | Buffer | undefined,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<FailedResponse | undefined> {
    const response = await request(url, {
      method,
      headers: headers(extra),
      dispatcher,
      ...(body === undefined ? {} : { body }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.statusCode >= 200 && response.statusCode < 300) {
      await response.body.dump();
      return undefined;
    }
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.statusCode,
      // An echoing proxy would put the credentials in the error message: redact them.
      body: redact(await response.body.text(), [options.password, credentialsOf(auth)]),
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    };
  }

  return {
    description: `database "${options.database}" at ${base}`,
    async connect() {
      const ping = await send(`${base}/ping`, 'GET', undefined, {});
      if (ping !== undefined || !options.createDatabase) return ping;
      const q = new URLSearchParams({ q: `CREATE DATABASE ${quoteIdentifier(options.database)}` });
      const created = await send(`${base}/query`, 'POST', q.toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      if (created !== undefined) return created;
      return undefined;
    },
    async post(body, signal) {
      const extra: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      if (options.gzip && body.length >= GZIP_THRESHOLD) {
        extra['content-encoding'] = 'gzip';
        return send(writeUrl, 'POST', await gzip(body), extra, signal);
      }
      return send(writeUrl, 'POST', body, extra, signal);
    },
    close: () => dispatcher.close(),
  };
}

export interface V2Options {
  readonly url: string;
  readonly org: string | undefined;
  readonly bucket: string;
  readonly token: string | undefined;
  readonly precision: Precision;
  readonly gzip: boolean;
  readonly timeoutMs: number;
}

/**
 * InfluxDB 2.x/3.x and 1.8+: `POST /api/v2/write?org=&bucket=&precision=` through @influxdata/influxdb-client's
 * transport (token auth, gzip). Its WriteApi is not used: it buffers and retries on its own, and the engine's
 * sink runner owns queues and retries.
 *
 * @example
 * const target = v2Target({ url: 'http://127.0.0.1:8086', bucket: 'k8s', org: 'acme', token, precision: 'ms', … });
 */
export function v2Target(options: V2Options): WriteTarget {
  const client = new InfluxDB({
    url: options.url,
    timeout: options.timeoutMs,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  const params = new URLSearchParams({ bucket: options.bucket, precision: options.precision });
  if (options.org !== undefined) params.set('org', options.org);
  const path = `/api/v2/write?${params.toString()}`;

  async function call(run: () => Promise<unknown>): Promise<FailedResponse | undefined> {
    try {
      await run();
      return undefined;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const retryAfter = error.headers?.['retry-after'];
      return {
        status: error.statusCode,
        body: redact(error.body ?? error.message, [options.token]),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    }
  }

  return {
    description: `bucket "${options.bucket}" at ${options.url}`,
    // /ping is answered by InfluxDB 1.8, 2.x and 3.x alike, without auth: it proves the server is up.
    connect: () => call(() => client.transport.request('/ping', '', { method: 'GET' })),
    post: (body, signal) =>
      call(() =>
        client.transport.request(path, body, {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          signal,
          ...(options.gzip ? { gzipThreshold: GZIP_THRESHOLD } : {}),
        }),
      ),
    close: () => Promise.resolve(),
  };
}
