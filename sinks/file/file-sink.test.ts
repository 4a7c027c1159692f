/**
 * The file sink end to end: real kubelet payloads go in through the sink, and DuckDB (an engine nobody here
 * wrote) reads the files back; every value is compared with what the sink was given.
 */
import { mkdtemp, readdir, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as zlib from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/component/clock.js';
import { PermanentError } from '../../src/component/errors.js';
import type { ClusterBatch, MetricBatch, MetricSet, NodeBatch } from '../../src/model/types.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { testContext } from '../../src/testing/context.js';
import fileSinkDefinition from './index.js';
import type { FileSink } from './file-sink.js';
import { SetValues } from '../../src/model/set-values.js';

const fixture = (name: string) =>
  new URL(`../../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url);

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 28, 9, 59, 45);

let duck: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => duck.closeSync());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-file-sink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A clock the test moves by hand; the scheduler is virtual so the sink's roll timer never fires by itself. */
function manualClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  return { now: () => now, scheduler, set: (ms) => (now = ms) };
}

function createSink(config: Record<string, unknown>, clock: Clock = manualClock(T0)): FileSink {
  const parsed = fileSinkDefinition.config.parse({ path: 'lake', ...config });
  return fileSinkDefinition.create(parsed, testContext({ baseDir: dir, clock, id: 'lake' })) as FileSink;
}

/** Deep-frozen: sinks only read, so a sink that changes its batch fails with a TypeError. */
function nodeBatch(fixtureName: string, node: string, timestamp: number, cycle = 1): NodeBatch {
  return deepFreeze(summaryBatch(fixture(fixtureName), { node, timestamp, cycle }));
}

/** Namespace and cluster sets as the aggregator emits them, plus values outside the schema's columns. */
function clusterBatch(timestamp: number): ClusterBatch {
  const ns = (name: string, cpu: number): MetricSet => ({
    type: 'ns',
    key: `namespace:${name}`,
    labels: { type: 'ns', namespace_name: name, namespace_id: `uid-${name}` },
    values: SetValues.from({
      'cpu/usage_rate': cpu,
      'memory/usage': 123_456_789,
      'cpu/request': 100,
      'custom/queue_depth': 2.5,
    }),
    labeled: [{ name: 'custom/shard_lag', labels: { shard: '7' }, value: 0.25 }],
    scrapeTime: 0,
    startTime: 0,
  });
  return {
    kind: 'batch',
    scope: 'cluster',
    cycle: 1,
    timestamp,
    sets: [
      ns('default', 250),
      ns('kube-system', 1750),
      {
        type: 'cluster',
        key: 'cluster',
        labels: { type: 'cluster' },
        values: SetValues.from({
          'cpu/usage_rate': 2000,
          'memory/usage': 246_913_578,
          'nvidia.com/gpu/request': 1,
        }),
        labeled: [],
        scrapeTime: 0,
        startTime: 0,
      },
    ],
  };
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const reader = await duck.runAndReadAll(sql);
  return reader.getRowObjectsJS();
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  await walk(root);
  return out.sort();
}

const TIME_COLUMNS =
  'epoch_us(time) AS time_us, epoch_us(batch_time) AS batch_time_us, epoch_us(start_time) AS start_time_us';

async function readParquetRows(pattern: string): Promise<Record<string, unknown>[]> {
  return query(
    `SELECT * EXCLUDE (time, batch_time, start_time), ${TIME_COLUMNS}
     FROM read_parquet('${pattern}', union_by_name = true, hive_partitioning = false)`,
  );
}

async function readJsonRows(pattern: string): Promise<Record<string, unknown>[]> {
  return query(
    `SELECT * EXCLUDE (time, batch_time, start_time),
       epoch_us(CAST(time AS TIMESTAMPTZ)) AS time_us, epoch_us(CAST(batch_time AS TIMESTAMPTZ)) AS batch_time_us,
       epoch_us(CAST(start_time AS TIMESTAMPTZ)) AS start_time_us
     FROM read_ndjson('${pattern}', union_by_name = true, hive_partitioning = false, sample_size = -1)`,
  );
}

// ---- the expected rows, worked out here from the model rather than from the sink's own schema code ----

const PROMOTED: Record<string, string> = {
  node: 'nodename',
  namespace: 'namespace_name',
  pod: 'pod_name',
  container: 'container_name',
  pod_uid: 'pod_id',
  workload_kind: 'workload_kind',
  workload_name: 'workload_name',
};
const FAMILIES: readonly { prefix: string; column: string; keys: readonly string[] }[] = [
  { prefix: 'filesystem/', column: 'filesystems', keys: ['resource_id'] },
  { prefix: 'disk/', column: 'disks', keys: ['resource_id'] },
  { prefix: 'accelerator/', column: 'accelerators', keys: ['make', 'model', 'accelerator_id'] },
];
const FIXED_COLUMNS = new Set([
  'time_us',
  'batch_time_us',
  'start_time_us',
  'type',
  'key',
  'labels',
  'other_values',
  'other_labeled',
  'schema_version',
  ...Object.keys(PROMOTED),
  ...FAMILIES.map((f) => f.column),
]);

/** DuckDB gives a Parquet MAP as [{key, value}] and a JSON object as a plain object. */
function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries((value as { key: string; value: unknown }[]).map((e) => [e.key, e.value]));
  }
  // JSON objects read with union_by_name carry every key seen in the file, null where a line lacked it.
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null));
}

function sameNumber(actual: unknown, expected: number, where: string): void {
  if (typeof actual === 'bigint') expect(actual, where).toBe(BigInt(expected));
  else expect(actual, where).toBe(expected);
}

/** Compares one row with the set it came from: every label, time, value and labeled value, and nothing more. */
function expectRowMatches(row: Record<string, unknown>, set: MetricSet, batch: MetricBatch): void {
  const where = `${set.type} ${set.key}`;
  const time = set.scrapeTime > 0 ? set.scrapeTime : batch.timestamp;
  expect(row.time_us, where).toBe(BigInt(Math.round(time * 1000)));
  expect(row.batch_time_us, where).toBe(BigInt(batch.timestamp * 1000));
  expect(row.start_time_us ?? null, where).toBe(
    set.startTime > 0 ? BigInt(Math.round(set.startTime * 1000)) : null,
  );
  expect(row.type).toBe(set.type);
  for (const [column, label] of Object.entries(PROMOTED)) {
    const expected =
      set.labels[label] ?? (column === 'node' && batch.scope === 'node' ? batch.node : undefined);
    expect(row[column] ?? undefined, `${where} ${column}`).toBe(expected);
  }
  const restLabels = Object.fromEntries(
    Object.entries(set.labels).filter(([k]) => k !== 'type' && !Object.values(PROMOTED).includes(k)),
  );
  expect(asRecord(row.labels), `${where} labels`).toEqual(restLabels);

  const otherValues = asRecord(row.other_values);
  let columnsUsed = 0;
  for (const [metric, value] of set.values) {
    const column = metric.replaceAll('/', '_');
    if (column in row && !(metric in otherValues)) {
      sameNumber(row[column], value, `${where} ${metric}`);
      columnsUsed++;
    } else {
      sameNumber(otherValues[metric], value, `${where} ${metric} in other_values`);
    }
  }
  const nonNullMetricColumns = Object.keys(row).filter(
    (c) => !FIXED_COLUMNS.has(c) && row[c] !== null && row[c] !== undefined,
  );
  expect(nonNullMetricColumns.length, `${where}: metric columns with a value`).toBe(columnsUsed);
  expect(Object.keys(otherValues).length).toBe(set.values.size - columnsUsed);

  let inFamilies = 0;
  const otherLabeled = (row.other_labeled ?? []) as { name: string; labels: unknown; value: number }[];
  for (const lv of set.labeled) {
    const family = FAMILIES.find((f) => lv.name.startsWith(f.prefix));
    const exactKeys =
      family !== undefined &&
      Object.keys(lv.labels).length === family.keys.length &&
      family.keys.every((k) => lv.labels[k] !== undefined);
    if (family !== undefined && exactKeys && Array.isArray(row[family.column])) {
      const structs = row[family.column] as Record<string, unknown>[];
      const struct = structs.find((s) => family.keys.every((k) => s[k] === lv.labels[k]));
      expect(struct, `${where} ${lv.name} ${JSON.stringify(lv.labels)}`).toBeDefined();
      sameNumber(struct?.[lv.name.slice(family.prefix.length)], lv.value, `${where} ${lv.name}`);
      inFamilies++;
    } else {
      const match = otherLabeled.find((o) => o.name === lv.name && o.value === lv.value);
      expect(match, `${where} ${lv.name} in other_labeled`).toBeDefined();
      expect(asRecord(match?.labels)).toEqual({ ...lv.labels });
    }
  }
  let familyValues = 0;
  for (const f of FAMILIES) {
    for (const s of (row[f.column] ?? []) as Record<string, unknown>[]) {
      familyValues += Object.entries(s).filter(([k, v]) => !f.keys.includes(k) && v !== null).length;
    }
  }
  expect(familyValues, `${where}: labeled values in family columns`).toBe(inFamilies);
  expect(otherLabeled.length).toBe(set.labeled.length - inFamilies);
}

function expectAllRowsMatch(rows: Record<string, unknown>[], batches: readonly MetricBatch[]): void {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const id = `${String(row.batch_time_us)}|${String(row.node)}|${String(row.key)}`;
    expect(byKey.has(id), `duplicate row ${id}`).toBe(false);
    byKey.set(id, row);
  }
  let sets = 0;
  for (const batch of batches) {
    for (const set of batch.sets) {
      const node = set.labels.nodename ?? (batch.scope === 'node' ? batch.node : null);
      const row = byKey.get(`${BigInt(batch.timestamp * 1000)}|${String(node)}|${set.key}`);
      expect(row, `row for ${set.key}`).toBeDefined();
      expectRowMatches(row as Record<string, unknown>, set, batch);
      sets++;
    }
  }
  expect(rows.length).toBe(sets);
}

describe('file sink, parquet', () => {
  it('writes real kubelet batches that DuckDB reads back value for value', async () => {
    const sink = createSink({ row_group_size: 40 });
    const batches: MetricBatch[] = [
      nodeBatch('nri-1.34', 'n1', T0),
      nodeBatch('nri-1.28', 'n2', T0),
      clusterBatch(T0),
      nodeBatch('nri-1.34', 'n1', T0 + 15_000, 2),
    ];
    expect(batches[0]?.sets.length).toBeGreaterThan(20);
    await sink.connect();
    for (const batch of batches) await sink.write(batch);
    await sink.close();

    const files = await listFiles(join(dir, 'lake'));
    expect(files.every((f) => /^dt=2026-11-28\/hour=(09|10)\/type=\w+\/part-[\w-]+\.parquet$/.test(f))).toBe(
      true,
    );
    expect(files.some((f) => f.includes('hour=10/'))).toBe(true); // the second cycle crossed the hour
    const rows = await readParquetRows(join(dir, 'lake', '**', '*.parquet'));
    expectAllRowsMatch(rows, batches);
  });

  it('writes INT64 for integer metrics, DOUBLE for floats, UTC timestamps, and the schema version', async () => {
    const sink = createSink({});
    await sink.write(nodeBatch('nri-1.34', 'n1', T0));
    await sink.close();
    const pattern = join(dir, 'lake', '**', 'type=node', '*.parquet');
    const columns = await query(`DESCRIBE SELECT * FROM read_parquet('${pattern}')`);
    const typeOf = (name: string) => String(columns.find((c) => c.column_name === name)?.column_type);
    expect(typeOf('time')).toBe('TIMESTAMP WITH TIME ZONE');
    expect(typeOf('cpu_usage')).toBe('BIGINT');
    expect(typeOf('cpu_usage_rate')).toBe('BIGINT');
    expect(typeOf('network_rx_rate')).toBe('DOUBLE');
    expect(typeOf('cpu_node_utilization')).toBe('DOUBLE');
    expect(typeOf('labels')).toBe('MAP(VARCHAR, VARCHAR)');
    expect(typeOf('filesystems').replaceAll('"', '')).toBe(
      'STRUCT(resource_id VARCHAR, usage BIGINT, limit BIGINT, available BIGINT, inodes BIGINT, inodes_free BIGINT)[]',
    );
    const meta = await query(
      `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${pattern}')`,
    );
    expect(meta.find((m) => m.key === 'heapstream.schema_version')?.value).toBe('1');
    expect(meta.find((m) => m.key === 'heapstream.table')?.value).toBe('node');
    const units = JSON.parse(String(meta.find((m) => m.key === 'heapstream.columns')?.value)) as Record<
      string,
      string
    >;
    expect(units.cpu_usage).toBe('cpu/usage (ns)');
    expect(units['filesystems.usage']).toBe('filesystem/usage (bytes)');
  });

  it('honours compression and row group size', async () => {
    const sink = createSink({ compression: 'gzip', row_group_size: 10 });
    const batch = nodeBatch('nri-1.34', 'n1', T0);
    await sink.write(batch);
    await sink.close();
    const pattern = join(dir, 'lake', '**', 'type=pod_container', '*.parquet');
    const meta = await query(
      `SELECT count(DISTINCT row_group_id) AS groups, min(compression) AS lo, max(compression) AS hi FROM parquet_metadata('${pattern}')`,
    );
    const containers = batch.sets.filter((s) => s.type === 'pod_container').length;
    expect(containers).toBeGreaterThan(10);
    // The batch is appended whole, so it lands in one row group even past the target.
    expect(meta[0]).toEqual({ groups: 1n, lo: 'GZIP', hi: 'GZIP' });

    const sink2 = createSink({ path: 'lake2', compression: 'none', row_group_size: 10 });
    await sink2.write(nodeBatch('nri-1.34', 'n1', T0));
    await sink2.write(nodeBatch('nri-1.34', 'n1', T0 + 1));
    await sink2.write(nodeBatch('nri-1.34', 'n1', T0 + 2));
    await sink2.close();
    const meta2 = await query(
      `SELECT count(DISTINCT row_group_id) AS groups, max(compression) AS codec FROM parquet_metadata('${join(dir, 'lake2', '**', 'type=pod_container', '*.parquet')}')`,
    );
    expect(meta2[0]).toEqual({ groups: 3n, codec: 'UNCOMPRESSED' });
  });

  it('writes zstd where node:zlib has it; where it does not, its schema refuses it, naming the key', async () => {
    const hasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
    if (!hasZstd) {
      const result = fileSinkDefinition.config.safeParse({ path: 'x', compression: 'zstd' });
      expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([
        [['compression'], expect.stringMatching(/^zstd needs Node 22\.15 or later .*: use snappy or gzip$/)],
      ]);
      return;
    }
    const sink = createSink({ compression: 'zstd' });
    const batch = nodeBatch('nri-1.34', 'n1', T0);
    await sink.write(batch);
    await sink.close();
    const pattern = join(dir, 'lake', '**', '*.parquet');
    const meta = await query(`SELECT DISTINCT compression FROM parquet_metadata('${pattern}')`);
    expect(meta).toEqual([{ compression: 'ZSTD' }]);
    expectAllRowsMatch(await readParquetRows(pattern), [batch]);
  });

  it('puts every set type in one file per partition when the template has no {type}', async () => {
    const sink = createSink({ partition: 'year={year}/month={month}/day={day}' });
    const batches = [nodeBatch('nri-1.34', 'n1', T0), clusterBatch(T0)];
    for (const b of batches) await sink.write(b);
    await sink.close();
    const files = await listFiles(join(dir, 'lake'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^year=2026\/month=11\/day=28\/part-/);
    expectAllRowsMatch(await readParquetRows(join(dir, 'lake', '**', '*.parquet')), batches);
  });

  it('answers the README query: CPU-hours per namespace per day', async () => {
    const sink = createSink({});
    const pod = (ns: string, name: string, cpu: number, t: number): MetricSet => ({
      type: 'pod',
      key: `namespace:${ns}/pod:${name}`,
      labels: { type: 'pod', namespace_name: ns, pod_name: name, nodename: 'n1' },
      values: SetValues.from({ 'cpu/usage_rate': cpu }),
      labeled: [],
      scrapeTime: t,
      startTime: 0,
    });
    // 240 cycles of 15 s = one hour: 500 + 250 millicores in `web` (0.75 CPU-hours), 2000 in `batch` (2).
    for (let k = 0; k < 240; k++) {
      const t = Date.UTC(2026, 10, 28, 12) + k * 15_000;
      await sink.write(
        deepFreeze({
          kind: 'batch',
          scope: 'node',
          node: 'n1',
          cycle: k,
          timestamp: t,
          sets: [pod('web', 'a', 500, t), pod('web', 'b', 250, t), pod('batch', 'c', 2000, t)],
        }),
      );
    }
    await sink.close();
    const sql = readmeQuery().replaceAll('/data/heapstream', join(dir, 'lake'));
    const result = await query(sql);
    expect(result).toEqual([
      { dt: new Date('2026-11-28T00:00:00Z'), namespace: 'batch', cpu_hours: 2 },
      { dt: new Date('2026-11-28T00:00:00Z'), namespace: 'web', cpu_hours: 0.75 },
    ]);
  });
});

/** The first ```sql block of the README, so the documented query is the tested one. */
function readmeQuery(): string {
  const text = readmeText;
  const match = /```sql\n([\s\S]*?)```/.exec(text);
  if (match === null) throw new Error('README.md has no sql block');
  return match[1] as string;
}
let readmeText = '';
beforeAll(async () => {
  const { readFile } = await import('node:fs/promises');
  readmeText = await readFile(new URL('./README.md', import.meta.url), 'utf8');
});

describe('file sink, complete files only', () => {
  it('keeps rows under a hidden temporary name until the file is complete, then renames it', async () => {
    const sink = createSink({});
    const batch = nodeBatch('nri-1.34', 'n1', T0);
    await sink.connect();
    await sink.write(batch);
    const during = await listFiles(join(dir, 'lake'));
    expect(during.length).toBe(4); // node, sys_container, pod, pod_container
    expect(during.every((f) => /\/\.part-[\w-]+\.parquet\.tmp$/.test(f))).toBe(true);
    // A lake reader's glob sees no file at all, rather than a partial one.
    await expect(
      query(`SELECT count(*) FROM read_parquet('${join(dir, 'lake', '**', '*.parquet')}')`),
    ).rejects.toThrow(/No files found/);
    await sink.close();
    const after = await listFiles(join(dir, 'lake'));
    expect(after.map((f) => f.replace(/\/\.?part-.*$/, ''))).toEqual(
      during.map((f) => f.replace(/\/\.?part-.*$/, '')),
    );
    expect(after.every((f) => /\/part-[\w-]+\.parquet$/.test(f))).toBe(true);
    expectAllRowsMatch(await readParquetRows(join(dir, 'lake', '**', '*.parquet')), [batch]);
  });

  it('close is idempotent and later writes are refused', async () => {
    const sink = createSink({});
    await sink.write(nodeBatch('nri-1.34', 'n1', T0));
    await Promise.all([sink.close(), sink.close()]);
    await sink.close();
    expect((await listFiles(join(dir, 'lake'))).length).toBe(4);
    await expect(sink.write(nodeBatch('nri-1.34', 'n1', T0))).rejects.toThrow(PermanentError);
  });
});

describe('file sink, rolling', () => {
  it('rolls by size: a file is completed once it passes max_bytes', async () => {
    const sink = createSink({ partition: 'all', row_group_size: 1, roll: { max_bytes: 5_000 } });
    const batches = [1, 2, 3, 4, 5].map((k) => nodeBatch('nri-1.34', 'n1', T0 + k * 15_000, k));
    for (const b of batches) await sink.write(b);
    const completedBeforeClose = (await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'));
    expect(completedBeforeClose.length).toBe(5);
    await sink.close();
    for (const f of completedBeforeClose)
      expect((await stat(join(dir, 'lake', f))).size).toBeGreaterThan(5_000);
    expectAllRowsMatch(await readParquetRows(join(dir, 'lake', '**', '*.parquet')), batches);
  });

  it('rolls by age, from writes and from its own timer', async () => {
    const clock = manualClock(T0);
    const sink = createSink({ partition: 'all', roll: { max_age: '1m' } }, clock);
    const first = nodeBatch('nri-1.34', 'n1', T0);
    await sink.write(first);
    clock.set(T0 + 30_000);
    await sink.write(nodeBatch('nri-1.34', 'n1', T0 + 30_000));
    expect((await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'))).toHaveLength(0);
    clock.set(T0 + 60_000);
    const third = nodeBatch('nri-1.34', 'n1', T0 + 60_000);
    await sink.write(third); // age reached after this write: the file with all three batches is completed
    let done = (await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'));
    expect(done).toHaveLength(1);

    // With no writes, the timer completes the file: run the virtual scheduler past max_age.
    const fourth = nodeBatch('nri-1.34', 'n1', T0 + 75_000);
    await sink.write(fourth);
    clock.set(T0 + 140_000);
    const scheduler = clock.scheduler as VirtualTimeScheduler;
    scheduler.maxFrames = scheduler.frame + 20_000;
    scheduler.flush();
    await sink.write(deepFreeze({ ...fourth, sets: [] })); // queued behind the timer's roll
    done = (await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'));
    expect(done).toHaveLength(2);
    const rows = await readParquetRows(join(dir, 'lake', '**', '*.parquet'));
    expect(rows.length).toBe(4 * first.sets.length);
    await sink.close();
    expect(await listFiles(join(dir, 'lake'))).toHaveLength(2);
    expect(third.sets.length).toBe(first.sets.length);
  });
});

describe('file sink, retention', () => {
  it('deletes completed files older than retention and orphaned temporaries, and nothing else', async () => {
    const lake = join(dir, 'lake');
    const oldDir = join(lake, 'dt=2026-11-01', 'hour=00', 'type=pod');
    const freshDir = join(lake, 'dt=2026-11-28', 'hour=09', 'type=pod');
    await mkdir(oldDir, { recursive: true });
    await mkdir(freshDir, { recursive: true });
    const old = (T0 - 200 * HOUR) / 1000;
    const files: [string, number][] = [
      [join(oldDir, 'part-20261101T000000000Z-aaaa-00000.parquet'), old],
      [join(oldDir, 'part-20261101T000000000Z-aaaa-00001.jsonl.gz'), old],
      [join(freshDir, 'part-20261128T090000000Z-aaaa-00002.parquet'), (T0 - HOUR) / 1000],
      [join(freshDir, '.part-20261128T000000000Z-dead-00003.parquet.tmp'), (T0 - 2 * HOUR) / 1000],
      [join(freshDir, 'notes.txt'), old],
    ];
    for (const [path, mtime] of files) {
      await writeFile(path, 'x');
      await utimes(path, mtime, mtime);
    }
    const sink = createSink({ retention: '168h' });
    await sink.connect();
    await sink.close();
    expect(await listFiles(lake)).toEqual([
      'dt=2026-11-28/hour=09/type=pod/notes.txt',
      'dt=2026-11-28/hour=09/type=pod/part-20261128T090000000Z-aaaa-00002.parquet',
    ]);
    // The old partition's directories went with their files.
    expect(await readdir(lake)).toEqual(['dt=2026-11-28']);
  });

  it('runs retention after rolling, while the sink is running', async () => {
    // File times are real, so this sink's clock starts at the real time.
    const T0 = Date.now();
    const clock = manualClock(T0);
    const sink = createSink({ partition: 'all', retention: '1h', roll: { max_age: '1m' } }, clock);
    await sink.write(nodeBatch('nri-1.34', 'n1', T0));
    await sink.rollExpired();
    clock.set(T0 + 60_000);
    await sink.rollExpired();
    const [firstFile] = (await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'));
    expect(firstFile).toBeDefined();
    const path = join(dir, 'lake', firstFile as string);
    const twoHoursAgo = (T0 + 3 * 60_000 - 2 * HOUR) / 1000;
    await utimes(path, twoHoursAgo, twoHoursAgo);
    clock.set(T0 + 3 * 60_000);
    await sink.write(nodeBatch('nri-1.34', 'n1', T0 + 180_000));
    clock.set(T0 + 5 * 60_000);
    await sink.rollExpired(); // completes the second file and sweeps
    await sink.close();
    const left = (await listFiles(join(dir, 'lake'))).filter((f) => f.endsWith('.parquet'));
    expect(left).toHaveLength(1);
    expect(left[0]).not.toBe(firstFile);
  });
});

describe('file sink, jsonl', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`round-trips through DuckDB (${compression})`, async () => {
      const sink = createSink({ format: 'jsonl', compression });
      const batches: MetricBatch[] = [
        nodeBatch('nri-1.34', 'n1', T0 - 15_000),
        clusterBatch(T0 - 15_000),
        nodeBatch('nri-1.34', 'n1', T0, 2),
      ];
      for (const b of batches) await sink.write(b);
      await sink.close();
      const ext = compression === 'gzip' ? 'jsonl.gz' : 'jsonl';
      const files = await listFiles(join(dir, 'lake'));
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => f.endsWith(`.${ext}`) && !f.includes('/.part-'))).toBe(true);
      if (compression === 'gzip') {
        // Each batch is its own gzip member; the whole file still gunzips as one stream.
        const { readFile } = await import('node:fs/promises');
        const text = zlib.gunzipSync(
          await readFile(join(dir, 'lake', files.find((f) => f.includes('type=pod/')) as string)),
        );
        expect(text.toString('utf8').trim().split('\n').length).toBe(
          2 * batches[0]!.sets.filter((s) => s.type === 'pod').length,
        );
      }
      const rows = await readJsonRows(join(dir, 'lake', '**', `*.${ext}`));
      expect(rows.every((r) => r.schema_version === 1n)).toBe(true);
      expectAllRowsMatch(rows, batches);
    });
  }

  it('refuses snappy or zstd for jsonl, naming the key', () => {
    const result = fileSinkDefinition.config.safeParse({ path: 'x', format: 'jsonl', compression: 'snappy' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['compression']);
    expect(result.error?.issues[0]?.message).toMatch(/jsonl files take compression "gzip" or "none"/);
  });
});
