/**
 * Hostile sets and values reach the file sink (from a decoder bug or a user's plugin): the sink rejects what it
 * cannot store at `write`, omits values that do not fit their column, and never completes a file without the rows
 * it accepted. DuckDB reads every file back.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError } from '../../src/component/errors.js';
import { createLogger } from '../../src/component/logger.js';
import type { Telemetry } from '../../src/component/telemetry.js';
import type { MetricSet, NodeBatch } from '../../src/model/types.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { testContext } from '../../src/testing/context.js';
import type { FileSink } from './file-sink.js';
import fileSinkDefinition from './index.js';
import { SetValues } from '../../src/model/set-values.js';

const fixture = (name: string) =>
  new URL(`../../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url);
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
/** The kubelet's uint64 "unknown" sentinel 18446744073709551615, as JSON.parse gives it (2^64). */
const UINT64_MAX = Number('18446744073709551615');

let duck: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => duck.closeSync());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-file-bad-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function createSink(config: Record<string, unknown>): {
  sink: FileSink;
  telemetry: Telemetry;
  logLines: Record<string, unknown>[];
} {
  const logLines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const ctx = testContext({
    baseDir: dir,
    id: 'lake',
    logger: createLogger({ level: 'warn', destination }),
    clock: { now: () => T0, scheduler: new VirtualTimeScheduler(VirtualAction, Infinity) },
  });
  const sink = fileSinkDefinition.create(
    fileSinkDefinition.config.parse({ path: 'lake', ...config }),
    ctx,
  ) as FileSink;
  return { sink, telemetry: ctx.telemetry, logLines };
}

function counter(telemetry: Telemetry, name: string, labels: Record<string, string>): number {
  const sample = telemetry
    .snapshot()
    .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample?.value ?? 0;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS();
}

async function listParquet(): Promise<string[]> {
  const entries = await readdir(join(dir, 'lake'), { recursive: true });
  return entries.filter((f) => f.endsWith('.parquet')).map((f) => join(dir, 'lake', f));
}

/** Deep-frozen: sinks only read, so a sink that changes its batch fails with a TypeError. */
function nodeBatch(fixtureName: string, node: string): NodeBatch {
  return deepFreeze(summaryBatch(fixture(fixtureName), { node, timestamp: T0, cycle: 1 }));
}

/** Rows per (node, type) in the lake, read back with DuckDB from whichever format the sink wrote. */
async function rowsPerNodeAndType(format: 'parquet' | 'jsonl'): Promise<Map<string, number>> {
  const reader =
    format === 'parquet'
      ? `read_parquet('${join(dir, 'lake', '**', '*.parquet')}', union_by_name = true)`
      : `read_ndjson('${join(dir, 'lake', '**', '*.jsonl')}', union_by_name = true, sample_size = -1)`;
  const rows = await query(`SELECT node, type, count(*) AS n FROM ${reader} GROUP BY ALL`);
  return new Map(rows.map((r) => [`${String(r.node)}/${String(r.type)}`, Number(r.n)]));
}

function expectedRows(batches: readonly NodeBatch[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of batches) {
    for (const s of b.sets) out.set(`${b.node}/${s.type}`, (out.get(`${b.node}/${s.type}`) ?? 0) + 1);
  }
  return out;
}

/** A copy of the batch's first set of `type`, with a new key and some labels replaced by anything at all. */
function withBadSet(batch: NodeBatch, type: MetricSet['type'], key: string, labels: object): NodeBatch {
  const model = batch.sets.find((s) => s.type === type) as MetricSet;
  const bad = { ...model, key, labels: { ...model.labels, ...labels } } as unknown as MetricSet;
  return deepFreeze({ ...batch, sets: [...batch.sets, bad] });
}

describe('file sink, a set it cannot store', () => {
  for (const format of ['parquet', 'jsonl'] as const) {
    it(`${format}: rejects it at write, naming set and label, and writes every row it accepted`, async () => {
      const { sink } = createSink({ format });
      const good = [nodeBatch('nri-1.34', 'n1'), nodeBatch('nri-1.28', 'n2'), nodeBatch('nri-1.34', 'n3')];
      const bad = [
        // A cAdvisor label that is a number, in a column of its own; one that is an array, in the labels map.
        withBadSet(nodeBatch('nri-1.34', 'b1'), 'pod', 'namespace:x/pod:numeric', { pod_name: 42 }),
        withBadSet(nodeBatch('nri-1.34', 'b2'), 'pod_container', 'namespace:x/pod:p/container:c', {
          app: ['a', 'b'],
        }),
      ];
      const errors: unknown[] = [];
      await sink.write(good[0] as NodeBatch);
      for (const batch of bad)
        errors.push(
          await sink.write(batch).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      await sink.write(good[1] as NodeBatch);
      await sink.write(good[2] as NodeBatch);
      await sink.close();

      // Every row of the good batches, none of the rejected ones (a rejected batch is not taken at all, so
      // the engine can isolate the bad set and write the rest without duplicates).
      expect(await rowsPerNodeAndType(format)).toEqual(expectedRows(good));
      expect(errors[0]).toBeInstanceOf(PermanentError);
      expect((errors[0] as Error).message).toMatch(
        /set namespace:x\/pod:numeric: label "pod_name" is a number \(42\), not a string/,
      );
      expect(errors[1]).toBeInstanceOf(PermanentError);
      expect((errors[1] as Error).message).toMatch(
        /set namespace:x\/pod:p\/container:c: label "app" is an array, not a string/,
      );
    });
  }

  it('rejects a labeled value whose label is not a string, and a set of unknown type', async () => {
    const { sink } = createSink({});
    const base = nodeBatch('nri-1.34', 'n1');
    const node = base.sets.find((s) => s.type === 'node') as MetricSet;
    const badLabeled = {
      ...node,
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: 7 }, value: 1 }],
    } as unknown as MetricSet;
    const badType = { ...node, type: 'galaxy' } as unknown as MetricSet;
    await expect(sink.write(deepFreeze({ ...base, sets: [badLabeled] }))).rejects.toThrow(
      /set node:datagen-1-34: label "resource_id" of filesystem\/usage is a number \(7\), not a string/,
    );
    await expect(sink.write(deepFreeze({ ...base, sets: [badType] }))).rejects.toThrow(
      /set node:datagen-1-34: type "galaxy" is not one of node, sys_container, pod/,
    );
    await sink.write(base);
    await sink.close();
    expect(await rowsPerNodeAndType('parquet')).toEqual(expectedRows([base]));
  });
});

describe('file sink, values that do not fit their column', () => {
  /** The node set of a real batch, with values no INT64 column can hold and values of the wrong type. */
  function hostileNodeBatch(): NodeBatch {
    const batch = nodeBatch('nri-1.34', 'n1');
    const sets = batch.sets.map((set): MetricSet => {
      if (set.type !== 'node') return set;
      return {
        ...set,
        values: SetValues.from({
          ...set.values.toJSON(),
          'memory/usage': 1.2e32,
          'memory/working_set': 2 ** 63,
          'memory/rss': 2 ** 63 - 1024, // the largest double an INT64 holds: kept, exactly
          'custom/huge': 1.2e32, // other_values is DOUBLE: fits
        }),
        // SetValues refuses a value that is not a number; a labeled value from a plugin in JavaScript can be one.
        labeled: set.labeled.map((lv) =>
          lv.name === 'filesystem/limit'
            ? { ...lv, value: UINT64_MAX }
            : lv.name === 'filesystem/available'
              ? { ...lv, value: null as unknown as number }
              : lv.name === 'filesystem/inodes'
                ? { ...lv, value: 'many' as unknown as number }
                : lv,
        ),
        startTime: 1e20,
      };
    });
    return { ...batch, sets };
  }

  for (const format of ['parquet', 'jsonl'] as const) {
    it(`${format}: omits and counts them when the row is accepted; every row and every other value is written`, async () => {
      const { sink, telemetry, logLines } = createSink({ format });
      const hostile = hostileNodeBatch();
      const other = nodeBatch('nri-1.28', 'n2');
      await sink.write(hostile);
      const labels = { sink: 'lake' };
      // Counted at write, before any file is completed.
      expect(
        counter(telemetry, 'heapstream_file_sink_values_omitted_total', {
          ...labels,
          reason: 'out_of_range',
        }),
      ).toBe(4);
      expect(
        counter(telemetry, 'heapstream_file_sink_values_omitted_total', { ...labels, reason: 'wrong_type' }),
      ).toBe(2);
      // Logged once per reason (rate-limited), naming the set and the value.
      const warnings = logLines.filter((l) => String(l.msg).includes('does not fit its column'));
      expect(warnings.map((w) => [w.reason, w.set, w.value])).toEqual([
        ['out_of_range', 'node:datagen-1-34', 'memory/usage'],
        ['wrong_type', 'node:datagen-1-34', 'filesystem/available'],
      ]);
      await sink.write(other);
      await sink.close();

      expect(await rowsPerNodeAndType(format)).toEqual(expectedRows([hostile, other]));
      const reader =
        format === 'parquet'
          ? `read_parquet('${join(dir, 'lake', '**', 'type=node', '*.parquet')}')`
          : `read_ndjson('${join(dir, 'lake', '**', 'type=node', '*.jsonl')}', union_by_name = true)`;
      const [row] = await query(`SELECT * FROM ${reader} WHERE node = 'n1'`);
      const node = hostile.sets.find((s) => s.type === 'node') as MetricSet;
      expect(row?.memory_usage ?? null).toBeNull();
      expect(row?.memory_working_set ?? null).toBeNull();
      // JSON numbers past 2^53 come back as the nearest double, Parquet INT64 exactly.
      if (format === 'parquet') expect(row?.memory_rss).toBe(2n ** 63n - 1024n);
      else expect(Number(row?.memory_rss)).toBe(2 ** 63 - 1024);
      expect(row?.cpu_usage_rate ?? null).toBeNull();
      expect(BigInt(row?.cpu_usage as bigint)).toBe(BigInt(node.values.get('cpu/usage') as number));
      expect(row?.start_time ?? null).toBeNull();
      const otherValues = row?.other_values;
      const otherKeys = Array.isArray(otherValues)
        ? (otherValues as { key: string }[]).map((e) => e.key)
        : Object.entries(otherValues as Record<string, unknown>)
            .filter(([, v]) => v !== null)
            .map(([k]) => k);
      expect(otherKeys).toEqual(['custom/huge']);
      const [fs] = row?.filesystems as Record<string, unknown>[];
      expect(fs?.limit ?? null).toBeNull();
      expect(fs?.available ?? null).toBeNull();
      expect(fs?.inodes ?? null).toBeNull();
      expect(BigInt(fs?.usage as bigint)).toBe(13767729152n);
      if (format === 'parquet') {
        const meta = await query(
          `SELECT sum(num_rows) AS n FROM parquet_file_metadata('${join(dir, 'lake', '**', 'type=node', '*.parquet')}')`,
        );
        expect(Number(meta[0]?.n)).toBe(2);
      }
    });
  }
});

describe('file sink, a row group the Parquet writer cannot encode', () => {
  it('writes every row it can, counts the rest, and completes the file', async () => {
    const POISON = 'namespace:x/pod:poison';
    // Called below with the writer as `this`, so leaving it unbound is the point.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const encode = ParquetWriter.prototype.write;
    // A failure the sink's own checks cannot foresee (a writer bug, say), after the writer wrote part of it.
    vi.spyOn(ParquetWriter.prototype, 'write').mockImplementation(function (
      this: ParquetWriter,
      options: Parameters<ParquetWriter['write']>[0],
    ) {
      const keys = options.columnData.find((c) => c.name === 'key')?.data as string[];
      if (keys.includes(POISON)) {
        (this.writer as ByteWriter).appendUint32(0xdeadbeef);
        throw new RangeError('simulated encoder failure');
      }
      return encode.call(this, options);
    });
    const { sink, telemetry } = createSink({});
    const first = nodeBatch('nri-1.34', 'n1');
    const poisoned = withBadSet(nodeBatch('nri-1.28', 'n2'), 'pod', POISON, {});
    await sink.write(first);
    await sink.write(poisoned);
    await sink.close();

    const written = expectedRows([first, poisoned]);
    written.set('n2/pod', (written.get('n2/pod') as number) - 1);
    expect(await rowsPerNodeAndType('parquet')).toEqual(written);
    // What the failed call wrote was undone, not left between the row groups.
    const marker = Buffer.from([0xef, 0xbe, 0xad, 0xde]);
    for (const file of await listParquet()) expect((await readFile(file)).indexOf(marker)).toBe(-1);
    expect(
      counter(telemetry, 'heapstream_file_sink_rows_dropped_total', {
        sink: 'lake',
        reason: 'encode_failed',
      }),
    ).toBe(1);
  });
});
