/**
 * File sink throughput: rows and metric values per second through the sink into real files, and the bytes each
 * metric value costs on disk, for Parquet (snappy) and JSON Lines (gzip) with the sink's default settings.
 *
 *   npx tsx bench/extras/file-sink.ts [seconds per format, default 3]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { valueTypeOf } from '../../src/model/catalogue.js';
import type { MetricSet, NodeBatch } from '../../src/model/types.js';
import { SetValues } from '../../src/model/set-values.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { testContext } from '../../src/testing/context.js';
import fileSink from '../../sinks/file/index.js';

/** The repo's own copy of a real kubelet payload, so the bench runs from a checkout alone. */
const FIXTURE = new URL('../../fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
/** Nodes written per cycle: each its own node name, so rows differ as they do in a cluster. */
const NODES = 20;
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

export interface FileSinkResult {
  /** `parquet (snappy)` or `jsonl (gzip)`. */
  readonly format: string;
  readonly rowsPerSecond: number;
  readonly valuesPerSecond: number;
  /** Bytes of the completed files per metric value written (plain and labeled values). */
  readonly bytesPerValue: number;
  /** Rows (metric sets) written. */
  readonly rows: number;
  /** Bytes of the completed files. */
  readonly bytes: number;
}

const FORMATS = [
  { label: 'parquet (snappy)', format: 'parquet', compression: 'snappy' },
  { label: 'jsonl (gzip)', format: 'jsonl', compression: 'gzip' },
] as const;

/**
 * Writes real-fixture node batches through the file sink into a temporary directory for `seconds` per format,
 * then measures the completed files and deletes them. Only the sink's calls are timed (writes and the final
 * close, which encodes the last row groups); the batches of the next cycle are built outside the clock.
 *
 * @example
 * const [parquet, jsonl] = await measureFileSink({ seconds: 3 });
 */
export async function measureFileSink(options: { seconds?: number } = {}): Promise<FileSinkResult[]> {
  const seconds = options.seconds ?? 3;
  const nodes = Array.from({ length: NODES }, (_, n) => summaryBatch(FIXTURE, { node: `bench-node-${n}` }));
  const results: FileSinkResult[] = [];
  for (const { label, format, compression } of FORMATS) {
    const dir = await mkdtemp(join(tmpdir(), 'heapstream-bench-file-'));
    try {
      const config = fileSink.config.parse({ path: 'lake', format, compression });
      const sink = fileSink.create(config, testContext({ id: 'bench', baseDir: dir }));
      await sink.connect?.();
      const random = randomSource(1);
      let rows = 0;
      let values = 0;
      let sinkMs = 0;
      const deadline = performance.now() + seconds * 1000;
      for (let cycle = 1; performance.now() < deadline; cycle++) {
        const batches = nodes.map((batch) => nextCycle(batch, cycle, random));
        const started = performance.now();
        for (const batch of batches) await sink.write(batch);
        sinkMs += performance.now() - started;
        for (const batch of batches) {
          rows += batch.sets.length;
          for (const set of batch.sets) values += set.values.size + set.labeled.length;
        }
      }
      const closing = performance.now();
      await sink.close?.();
      sinkMs += performance.now() - closing;
      const bytes = await completedBytes(join(dir, 'lake'));
      results.push({
        format: label,
        rowsPerSecond: (rows / sinkMs) * 1000,
        valuesPerSecond: (values / sinkMs) * 1000,
        bytesPerValue: bytes / values,
        rows,
        bytes,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return results;
}

/**
 * The node's batch at a later cycle: every value moves by a random step of up to 1 % (integers stay integers),
 * as counters and gauges do between scrapes, so the files do not compress like copies of one payload.
 */
export function nextCycle(batch: NodeBatch, cycle: number, random: () => number): NodeBatch {
  const sets = batch.sets.map((set): MetricSet => {
    const values = new SetValues();
    set.values.forEach((value, name) => values.set(name, moved(name, value, random)));
    return {
      ...set,
      values,
      labeled: set.labeled.map((lv) => ({ ...lv, value: moved(lv.name, lv.value, random) })),
    };
  });
  return { ...batch, cycle, timestamp: T0 + cycle * 15_000, sets };
}

function moved(name: string, value: number, random: () => number): number {
  const step = random() * Math.abs(value) * 0.01;
  return valueTypeOf(name) === 'int' ? value + Math.floor(step) : value + step;
}

/** xorshift32: the same values on every run. */
export function randomSource(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
}

async function completedBytes(root: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.endsWith('.tmp')) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

/** The results as a Markdown table. */
export function formatFileSinkResults(results: readonly FileSinkResult[]): string {
  const rows = results.map((r) =>
    [
      r.format,
      Math.round(r.rowsPerSecond).toLocaleString('en-US'),
      Math.round(r.valuesPerSecond).toLocaleString('en-US'),
      r.bytesPerValue.toFixed(2),
      r.rows.toLocaleString('en-US'),
      r.bytes.toLocaleString('en-US'),
    ].join(' | '),
  );
  return [
    '| format | rows/s | values/s | bytes/value | rows | bytes |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  if (!(seconds > 0))
    throw new Error(`seconds per format: expected a positive number, got ${process.argv[2]}`);
  console.log(formatFileSinkResults(await measureFileSink({ seconds })));
}
