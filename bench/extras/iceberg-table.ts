/**
 * The file sink into an Iceberg table on a real SeaweedFS (S3 and its Iceberg REST catalog) on loopback: rows per
 * second end to end (encode, upload, commit), MB per second uploaded, and the latency of each commit (the catalog
 * POST alone). Each round writes `cycles` cycles of 20 real-fixture node batches and closes the sink, which
 * uploads the round's files and commits them as one snapshot on top of the previous rounds'.
 *
 *   HEAPSTREAM_WEED_BIN=/path/to/weed npx tsx bench/extras/iceberg-table.ts [rounds, default 5] [cycles, default 4]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { testContext } from '../../src/testing/context.js';
import { RestCatalog } from '../../sinks/file/iceberg/rest-catalog.js';
import fileSink from '../../sinks/file/index.js';
import { startSeaweedFS } from '../../test/services/seaweedfs.js';

const FIXTURE = new URL('../../fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const NODES = 20;
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

export interface IcebergBenchResult {
  readonly rounds: number;
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly uploadedBytes: number;
  readonly megabytesPerSecond: number;
  /** Catalog commit POSTs, milliseconds, in order. */
  readonly commitMs: readonly number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export async function measureIcebergTable(rounds: number, cycles: number): Promise<IcebergBenchResult> {
  const weed = await startSeaweedFS({ tableBuckets: ['lake'] });
  const dir = await mkdtemp(join(tmpdir(), 'heapstream-bench-iceberg-'));
  const credential = `${weed.accessKeyId}:${weed.secretAccessKey}`;
  process.env['AWS_ACCESS_KEY_ID'] = weed.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = weed.secretAccessKey;
  process.env['BENCH_ICEBERG_CREDENTIAL'] = credential;
  // Time the catalog's commit POSTs and count the bytes PUT to S3, without touching the sink.
  const commitMs: number[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const started = performance.now();
    const response = await realFetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (init?.method === 'POST' && /\/namespaces\/[^/]+\/tables\/[^/]+$/.test(url)) {
      commitMs.push(performance.now() - started);
    }
    return response;
  };
  try {
    const catalog = new RestCatalog({ uri: weed.icebergUri, warehouse: 's3://lake', credential });
    for (let i = 0; ; i++) {
      try {
        await catalog.init();
        await catalog.ensureNamespace(['bench']);
        break;
      } catch (err) {
        // The table bucket is created in the background after the server answers.
        if (i > 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const nodes = Array.from({ length: NODES }, (_, n) => summaryBatch(FIXTURE, { node: `bench-node-${n}` }));
    const config = fileSink.config.parse({
      path: 'staging',
      roll: { max_age: '1h' },
      table: {
        format: 'iceberg',
        catalog: {
          type: 'rest',
          uri: weed.icebergUri,
          warehouse: 's3://lake',
          credential_env: 'BENCH_ICEBERG_CREDENTIAL',
        },
        namespace: 'bench',
        name: 'sets',
        storage: { endpoint: weed.s3Endpoint, force_path_style: true },
      },
    });
    let rows = 0;
    let sinkMs = 0;
    for (let round = 0; round < rounds; round++) {
      const sink = fileSink.create(config, testContext({ id: 'bench', baseDir: dir }));
      await sink.connect?.();
      const started = performance.now();
      for (let cycle = 1; cycle <= cycles; cycle++) {
        const timestamp = T0 + (round * cycles + cycle) * 15_000;
        for (const batch of nodes) {
          await sink.write({ ...batch, cycle, timestamp });
          rows += batch.sets.length;
        }
      }
      await sink.close?.();
      sinkMs += performance.now() - started;
    }
    const table = await catalog.loadTable(['bench'], 'sets');
    const last = table?.snapshots?.at(-1)?.summary ?? {};
    const uploadedBytes = Number(last['total-files-size'] ?? 0);
    return {
      rounds,
      rows,
      rowsPerSecond: (rows / sinkMs) * 1000,
      uploadedBytes,
      megabytesPerSecond: uploadedBytes / 1e6 / (sinkMs / 1000),
      commitMs,
    };
  } finally {
    globalThis.fetch = realFetch;
    await weed.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatIcebergBench(r: IcebergBenchResult): string {
  return [
    '| rounds (snapshots) | rows | rows/s end to end | MB uploaded | MB/s | commit median ms | commit max ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${r.rounds} | ${r.rows.toLocaleString('en-US')} | ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} | ${(r.uploadedBytes / 1e6).toFixed(1)} | ${r.megabytesPerSecond.toFixed(1)} | ${median(r.commitMs).toFixed(1)} | ${Math.max(...r.commitMs).toFixed(1)} |`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 5);
  const cycles = Number(process.argv[3] ?? 4);
  console.log(formatIcebergBench(await measureIcebergTable(rounds, cycles)));
  process.exit(0);
}
