/**
 * Object storage throughput, against a real S3 server on loopback (SeaweedFS `weed mini`, see
 * test/services/README.md): MB/s of the S3 client alone (single PUTs and multipart uploads of random bytes), and
 * rows/s and MB/s through the file sink's `s3://` target (real kubelet payloads, files rolled at 8 MiB and uploaded
 * whole; values moved by up to 1 % a cycle as in bench/extras/file-sink.ts), Parquet and JSON Lines.
 *
 *   npx tsx bench/extras/file-sink-s3.ts [seconds per format, default 5]
 *
 * Uses $HEAPSTREAM_WEED_BIN or `.cache/seaweedfs/<version>/weed`, building it first when neither exists (minutes).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { environmentCredentials } from '../../src/component/s3/credentials.js';
import { S3ObjectStore } from '../../src/component/s3/s3-store.js';
import type { NodeBatch } from '../../src/model/types.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { testContext } from '../../src/testing/context.js';
import fileSink from '../../sinks/file/index.js';
import { nextCycle, randomSource } from './file-sink.js';
import { startSeaweedFS, type SeaweedFSService } from '../../test/services/seaweedfs.js';

const FIXTURE = new URL('../../fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const NODES = 20;
const MIB = 1024 * 1024;

export interface S3ClientResult {
  readonly what: string;
  readonly objects: number;
  readonly bytes: number;
  readonly mbPerSecond: number;
}

export interface S3SinkResult {
  readonly format: string;
  readonly rows: number;
  readonly rowsPerSecond: number;
  /** Bytes of the objects in the bucket. */
  readonly bytes: number;
  readonly objects: number;
  /** Object bytes per second of the sink's time (encoding, rolling and uploading together). */
  readonly mbPerSecond: number;
}

function storeOf(weed: SeaweedFSService, prefix: string, thresholdBytes = 16 * MIB): S3ObjectStore {
  return new S3ObjectStore({
    bucket: 'bench',
    prefix,
    region: weed.region,
    endpoint: weed.s3Endpoint,
    forcePathStyle: true,
    multipartThresholdBytes: thresholdBytes,
    credentials: environmentCredentials({
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
    }),
  });
}

async function measureClient(weed: SeaweedFSService): Promise<S3ClientResult[]> {
  const cases = [
    { what: 'PUT 1 MiB', size: MIB, count: 32 },
    { what: 'PUT 8 MiB', size: 8 * MIB, count: 8 },
    { what: 'multipart 64 MiB (8 MiB parts)', size: 64 * MIB, count: 2 },
  ];
  const results: S3ClientResult[] = [];
  for (const { what, size, count } of cases) {
    const store = storeOf(weed, `client-${size}`);
    const body = randomBytes(size);
    const started = performance.now();
    for (let i = 0; i < count; i++) await store.put(`object-${i}`, body);
    const seconds = (performance.now() - started) / 1000;
    results.push({ what, objects: count, bytes: size * count, mbPerSecond: (size * count) / MIB / seconds });
  }
  return results;
}

async function measureSink(weed: SeaweedFSService, seconds: number): Promise<S3SinkResult[]> {
  const nodes: NodeBatch[] = Array.from({ length: NODES }, (_, n) =>
    summaryBatch(FIXTURE, { node: `bench-node-${n}` }),
  );
  const results: S3SinkResult[] = [];
  const env = {
    AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'],
    secret: process.env['AWS_SECRET_ACCESS_KEY'],
  };
  process.env['AWS_ACCESS_KEY_ID'] = weed.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = weed.secretAccessKey;
  try {
    for (const format of ['parquet', 'jsonl'] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'heapstream-bench-s3-'));
      try {
        const config = fileSink.config.parse({
          path: `s3://bench/sink-${format}`,
          format,
          ...(format === 'jsonl' ? { compression: 'gzip' } : {}),
          roll: { max_bytes: 8 * MIB },
          s3: { endpoint: weed.s3Endpoint, region: weed.region, force_path_style: true },
        });
        const sink = fileSink.create(config, testContext({ id: 'bench', baseDir: dir, dataDir: dir }));
        await sink.connect?.();
        const random = randomSource(1);
        let rows = 0;
        let sinkMs = 0;
        const deadline = performance.now() + seconds * 1000;
        for (let cycle = 1; performance.now() < deadline; cycle++) {
          // Values moved by up to 1 % a cycle, as in the local file sink bench, so files do not compress like copies.
          const batches = nodes.map((b) => nextCycle(b, cycle, random));
          const started = performance.now();
          for (const batch of batches) await sink.write(batch);
          sinkMs += performance.now() - started;
          for (const batch of batches) rows += batch.sets.length;
        }
        const closing = performance.now();
        await sink.close?.();
        sinkMs += performance.now() - closing;
        const objects = await storeOf(weed, `sink-${format}`).list('');
        const bytes = objects.reduce((sum, o) => sum + o.size, 0);
        results.push({
          format: format === 'parquet' ? 'parquet (snappy)' : 'jsonl (gzip)',
          rows,
          rowsPerSecond: (rows / sinkMs) * 1000,
          bytes,
          objects: objects.length,
          mbPerSecond: bytes / MIB / (sinkMs / 1000),
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    if (env.AWS_ACCESS_KEY_ID === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
    else process.env['AWS_ACCESS_KEY_ID'] = env.AWS_ACCESS_KEY_ID;
    if (env.secret === undefined) delete process.env['AWS_SECRET_ACCESS_KEY'];
    else process.env['AWS_SECRET_ACCESS_KEY'] = env.secret;
  }
  return results;
}

/**
 * Starts SeaweedFS, runs both measurements and stops it.
 *
 * @example
 * const { client, sink } = await measureObjectStorage({ seconds: 5 });
 */
export async function measureObjectStorage(
  options: { seconds?: number } = {},
): Promise<{ client: S3ClientResult[]; sink: S3SinkResult[] }> {
  const weed = await startSeaweedFS();
  try {
    await storeOf(weed, '').createBucket();
    const client = await measureClient(weed);
    const sink = await measureSink(weed, options.seconds ?? 5);
    return { client, sink };
  } finally {
    await weed.stop();
  }
}

const n = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Both results as Markdown tables. */
export function formatObjectStorage(results: { client: S3ClientResult[]; sink: S3SinkResult[] }): string {
  return [
    '| S3 client | objects | MiB | MiB/s |',
    '| --- | --- | --- | --- |',
    ...results.client.map(
      (r) => `| ${r.what} | ${r.objects} | ${n(r.bytes / MIB)} | ${n(r.mbPerSecond, 1)} |`,
    ),
    '',
    '| file sink → S3 | rows | rows/s | objects | MiB | MiB/s |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.sink.map(
      (r) =>
        `| ${r.format} | ${n(r.rows)} | ${n(r.rowsPerSecond)} | ${r.objects} | ${n(r.bytes / MIB, 1)} | ${n(r.mbPerSecond, 1)} |`,
    ),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 5);
  if (!(seconds > 0))
    throw new Error(`seconds per format: expected a positive number, got ${process.argv[2]}`);
  console.log(formatObjectStorage(await measureObjectStorage({ seconds })));
}
