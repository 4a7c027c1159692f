import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/component/errors.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { piecewiseWrites } from '../../src/testing/piecewise-writes.js';
import { testContext } from '../../src/testing/context.js';
import { influxSinkConfig } from './config.js';
import { influxSink } from './influx-sink.js';
import { linesOf } from '../../test/support/influx-lines.js';

// The protocol details a real server cannot be made to show on demand (429 with Retry-After, gzip bodies,
// exact URLs and auth headers) against a loopback HTTP server that records what it received.

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const NRI = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
// Sinks only read: frozen, so a sink that changes its batch fails with a TypeError.
const batch = deepFreeze(summaryBatch(NRI, { node: 'datagen-1-34', timestamp: 1_795_829_090_000 }));

let server: Server;
let url: string;
let received: Received[];
let answers: ((res: ServerResponse) => void)[];

function answer(
  status: number,
  body = '',
  headers: Record<string, string> = {},
): (res: ServerResponse) => void {
  return (res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: body.toString(),
      });
      (answers.shift() ?? answer(204))(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await once(server, 'close');
});
beforeEach(() => {
  received = [];
  answers = [];
});

function sinkWith(config: Record<string, unknown>) {
  const ctx = testContext({ id: 'tsdb' });
  return {
    sink: influxSink(influxSinkConfig.parse({ url, ...config }), ctx),
    telemetry: ctx.telemetry,
  };
}

const totalLines = (() => {
  let n = 0;
  for (const s of batch.sets) n += s.values.size + s.labeled.length;
  return n;
})();

describe('api v1', () => {
  it('pings, creates the database, and posts gzipped bodies to /write with db, rp, precision and basic auth', async () => {
    const { sink, telemetry } = sinkWith({
      api: 'v1',
      database: 'k8s "prod"',
      retention_policy: 'weekly',
      username: 'heap',
      password: 's3cret',
      create_database: true,
      precision: 'us',
      batch: { max_lines: 500 },
    });
    await sink.connect?.();
    await sink.write(batch);
    await sink.close();
    const [ping, create, ...writes] = received;
    expect(ping?.url).toBe('/ping');
    expect(create?.url).toBe('/query');
    expect(new URLSearchParams(create?.body).get('q')).toBe('CREATE DATABASE "k8s \\"prod\\""');
    expect(writes).toHaveLength(Math.ceil(totalLines / 500));
    const first = new URL(writes[0]?.url ?? '', url);
    expect(first.pathname).toBe('/write');
    expect(Object.fromEntries(first.searchParams)).toEqual({
      db: 'k8s "prod"',
      rp: 'weekly',
      precision: 'u',
    });
    expect(writes[0]?.headers['content-encoding']).toBe('gzip');
    expect(writes[0]?.headers.authorization).toBe('Basic ' + Buffer.from('heap:s3cret').toString('base64'));
    expect(writes.flatMap((w) => linesOf(w.body))).toHaveLength(totalLines);
    expect(linesOf(writes[0]?.body ?? '')[0]).toMatch(/ 1795829090000000$/);
    expect(telemetry.value('heapstream_influxdb_lines_written_total', { sink: 'tsdb' })).toBe(totalLines);
  });

  it('does not compress with gzip: false', async () => {
    const { sink } = sinkWith({ api: 'v1', gzip: false });
    await sink.write(batch);
    expect(received[0]?.headers['content-encoding']).toBeUndefined();
    expect(new URL(received[0]?.url ?? '', url).searchParams.get('db')).toBe('k8s');
  });
});

describe('api v2', () => {
  it('posts to /api/v2/write with org, bucket, precision and the token', async () => {
    const { sink } = sinkWith({ org: 'acme', bucket: 'k8s/autogen', token: 'tok', precision: 'ns' });
    await sink.connect?.();
    await sink.write(batch);
    const write = received[1];
    const target = new URL(write?.url ?? '', url);
    expect(target.pathname).toBe('/api/v2/write');
    expect(Object.fromEntries(target.searchParams)).toEqual({
      org: 'acme',
      bucket: 'k8s/autogen',
      precision: 'ns',
    });
    expect(write?.headers.authorization).toBe('Token tok');
    expect(write?.headers['content-encoding']).toBe('gzip');
    expect(linesOf(write?.body ?? '')).toHaveLength(totalLines);
  });
});

describe('failures', () => {
  it('turns 429 into RetryableError with Retry-After, and does not post again before then', async () => {
    const { sink } = sinkWith({ api: 'v1', batch: { max_lines: 400 } });
    answers.push(answer(204), answer(429, '{"error":"slow down"}', { 'retry-after': '2' }));
    const error = await sink.write(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(2000);
    expect((error as Error).message).toContain('slow down');
    expect(received).toHaveLength(2);
    // The runner's retry before the two seconds pass is refused without a request.
    const early = await sink.write(batch).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(RetryableError);
    expect(received).toHaveLength(2);
  });

  it('resumes a retried batch from the body that failed, not from the start', async () => {
    const write = piecewiseWrites(sinkWith({ api: 'v1', batch: { max_lines: 400 } }).sink);
    answers.push(answer(204), answer(503, 'overloaded'));
    await expect(write(batch)).rejects.toBeInstanceOf(RetryableError);
    await write(batch);
    const bodies = received.map((r) => r.body);
    expect(bodies[2]).toBe(bodies[1]);
    const delivered = [bodies[0] ?? '', ...bodies.slice(2)];
    expect(delivered.flatMap(linesOf)).toHaveLength(totalLines);
  });

  it('reports a partial write as PermanentError with the rejected lines, after writing the rest', async () => {
    const { sink, telemetry } = sinkWith({ api: 'v1', batch: { max_lines: 400 } });
    answers.push(
      answer(
        400,
        '{"error":"partial write: field type conflict: input field \\"value\\" on measurement \\"memory/usage\\" is type integer, already exists as type float dropped=13"}',
      ),
    );
    const error = await sink.write(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    const message = (error as Error).message;
    expect(message).toContain(`rejected 13 of ${totalLines} lines`);
    expect(message).toMatch(/sample: memory\/usage,/);
    expect(received.flatMap((r) => linesOf(r.body))).toHaveLength(totalLines);
    expect(telemetry.value('heapstream_influxdb_rejected_lines_total', { sink: 'tsdb' })).toBe(13);
  });

  it('fails at once, permanently, on bad credentials and on a missing database', async () => {
    const { sink } = sinkWith({ api: 'v1', batch: { max_lines: 400 } });
    answers.push(answer(401, '{"error":"authorization failed"}'));
    await expect(sink.write(batch)).rejects.toThrow(/refused the credentials .*authorization failed/);
    answers.push(answer(404, '{"error":"database not found: \\"k8s\\""}'));
    await expect(sink.write(batch)).rejects.toThrow(/database not found.*create_database: true/);
    expect(received).toHaveLength(2);
  });

  it('keeps the credentials out of the error when the server echoes the request', async () => {
    // A proxy that answers with the request it got: our Authorization header and the configured secrets.
    const echo = (status: number) => (res: ServerResponse) => {
      const headers = received.at(-1)?.headers ?? {};
      res.writeHead(status);
      res.end(`denied: Authorization: ${String(headers.authorization)}\nuser=heap password=hunter2-secret`);
    };
    const v1 = sinkWith({ api: 'v1', username: 'heap', password: 'hunter2-secret' }).sink;
    answers.push(echo(401));
    const v1Error = (await v1.write(batch).catch((e: unknown) => e)) as Error;
    expect(v1Error.message).toContain('refused the credentials');
    expect(v1Error.message).not.toContain('hunter2');
    expect(v1Error.message).not.toContain(Buffer.from('heap:hunter2-secret').toString('base64'));
    const v2 = sinkWith({ org: 'acme', bucket: 'k8s', token: 'tok-0123456789' }).sink;
    answers.push((res) => {
      res.writeHead(403);
      res.end(`{"message":"token tok-0123456789 is not allowed to write"}`);
    });
    const v2Error = (await v2.write(batch).catch((e: unknown) => e)) as Error;
    expect(v2Error.message).toContain('is not allowed to write');
    expect(v2Error.message).not.toContain('tok-0123456789');
  });

  it('turns a refused connection into RetryableError naming the target', async () => {
    const sink = influxSink(
      influxSinkConfig.parse({ url: 'http://127.0.0.1:1', api: 'v1' }),
      testContext({ id: 'tsdb' }),
    );
    await expect(sink.connect?.()).rejects.toThrow(
      /sink tsdb: connecting to database "k8s" at http:\/\/127.0.0.1:1 failed/,
    );
    await expect(sink.write(batch)).rejects.toBeInstanceOf(RetryableError);
    await sink.close();
    await sink.close();
  });
});

describe('config', () => {
  it('rejects keys of the other api and a v2 config without a bucket', () => {
    const result = influxSinkConfig.safeParse({
      url,
      api: 'v2',
      database: 'k8s',
      token: 't',
      token_file: 'f',
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'database: database applies to api: v1 only',
        'bucket: api: v2 needs a bucket',
        'token_file: set token or token_file, not both',
      ]),
    );
  });

  it('reads the token from token_file relative to the pipeline directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'influx-sink-'));
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const sink = influxSink(
      influxSinkConfig.parse({ url, bucket: 'b', token_file: 'token' }),
      testContext({ baseDir: dir }),
    );
    await sink.write(batch);
    expect(received[0]?.headers.authorization).toBe('Token from-file');
    rmSync(dir, { recursive: true });
  });
});
