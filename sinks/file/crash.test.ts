/**
 * A kill -9 mid-write leaves no file that fails to read: a child process writes real kubelet batches through
 * the file sink in a loop with small rolls and is SIGKILLed while it runs. Every completed file must then be
 * readable by DuckDB with the documented schema, and a sink started later on the same directory must delete the
 * temporary files the dead writer left. Were files written under their final names, the file being written at
 * the kill would be a `part-*.parquet` without a footer and the DuckDB reads here would fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SetType } from '../../src/model/catalogue.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { testContext } from '../../src/testing/context.js';
import fileSinkDefinition from './index.js';

const FIXTURE = fileURLToPath(
  new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url),
);
const WRITER = fileURLToPath(new URL('./testdata/crash-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Completed files to wait for before the kill: enough that several rolls of every set type happened. */
const COMPLETED_BEFORE_KILL = 12;
const MAX_AGE_MS = 60_000;
/** The sink's documented orphan age: temporaries older than 2 × max_age + 1m are a dead writer's. */
const ORPHAN_AGE_MS = 2 * MAX_AGE_MS + 60_000;

/** Schema version 1 as the README documents it, in column order. */
const LEADING_COLUMNS = [
  ['time', 'TIMESTAMP WITH TIME ZONE'],
  ['batch_time', 'TIMESTAMP WITH TIME ZONE'],
  ['start_time', 'TIMESTAMP WITH TIME ZONE'],
  ['type', 'VARCHAR'],
  ['key', 'VARCHAR'],
  ['node', 'VARCHAR'],
  ['namespace', 'VARCHAR'],
  ['pod', 'VARCHAR'],
  ['container', 'VARCHAR'],
  ['pod_uid', 'VARCHAR'],
  ['workload_kind', 'VARCHAR'],
  ['workload_name', 'VARCHAR'],
  ['labels', 'MAP(VARCHAR, VARCHAR)'],
] as const;
const CONTAINER_METRICS = [
  ['uptime', 'BIGINT'],
  ['cpu_usage', 'BIGINT'],
  ['cpu_usage_rate', 'BIGINT'],
  ['cpu_load', 'BIGINT'],
  ['cpu_request', 'BIGINT'],
  ['cpu_limit', 'BIGINT'],
  ['memory_usage', 'BIGINT'],
  ['memory_working_set', 'BIGINT'],
  ['memory_rss', 'BIGINT'],
  ['memory_cache', 'BIGINT'],
  ['memory_page_faults', 'BIGINT'],
  ['memory_major_page_faults', 'BIGINT'],
  ['memory_page_faults_rate', 'DOUBLE'],
  ['memory_major_page_faults_rate', 'DOUBLE'],
  ['memory_request', 'BIGINT'],
  ['memory_limit', 'BIGINT'],
  ['network_rx', 'BIGINT'],
  ['network_rx_errors', 'BIGINT'],
  ['network_tx', 'BIGINT'],
  ['network_tx_errors', 'BIGINT'],
  ['network_rx_rate', 'DOUBLE'],
  ['network_rx_errors_rate', 'DOUBLE'],
  ['network_tx_rate', 'DOUBLE'],
  ['network_tx_errors_rate', 'DOUBLE'],
  ['ephemeral_storage_usage', 'BIGINT'],
  ['ephemeral_storage_request', 'BIGINT'],
  ['ephemeral_storage_limit', 'BIGINT'],
  ['restart_count', 'BIGINT'],
] as const;
const NODE_METRICS = ['cpu', 'memory', 'ephemeral_storage'].flatMap((r) =>
  ['capacity', 'allocatable', 'utilization', 'reservation'].map((m) => [`${r}_node_${m}`, 'DOUBLE'] as const),
);
const TRAILING_COLUMNS = [
  [
    'filesystems',
    'STRUCT(resource_id VARCHAR, usage BIGINT, limit BIGINT, available BIGINT, inodes BIGINT, inodes_free BIGINT)[]',
  ],
  [
    'disks',
    'STRUCT(resource_id VARCHAR, io_read_bytes BIGINT, io_write_bytes BIGINT, io_read_bytes_rate DOUBLE, io_write_bytes_rate DOUBLE)[]',
  ],
  [
    'accelerators',
    'STRUCT(make VARCHAR, model VARCHAR, accelerator_id VARCHAR, memory_total BIGINT, memory_used BIGINT, duty_cycle BIGINT)[]',
  ],
  ['other_values', 'MAP(VARCHAR, DOUBLE)'],
  ['other_labeled', 'STRUCT(name VARCHAR, labels MAP(VARCHAR, VARCHAR), value DOUBLE)[]'],
] as const;

function documentedColumns(type: string): string[] {
  const metrics = type === 'node' ? [...CONTAINER_METRICS, ...NODE_METRICS] : CONTAINER_METRICS;
  return [...LEADING_COLUMNS, ...metrics, ...TRAILING_COLUMNS].map(([name, sqlType]) => `${name} ${sqlType}`);
}

/** Sets per type in one batch: every completed file must hold whole batches. */
const SETS_PER_BATCH = new Map<SetType, number>();
for (const set of summaryBatch(FIXTURE).sets)
  SETS_PER_BATCH.set(set.type, (SETS_PER_BATCH.get(set.type) ?? 0) + 1);

let duck: DuckDBConnection;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => duck.closeSync());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-file-crash-'));
});
afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  child = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS();
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  await walk(root);
  return out.sort();
}

/**
 * Starts the writer, waits until it has completed `COMPLETED_BEFORE_KILL` files, at least one of every set
 * type, then SIGKILLs it.
 */
async function runAndKill(lake: string, config: Record<string, unknown>): Promise<void> {
  const writer = spawn(process.execPath, ['--import', 'tsx', WRITER, lake, FIXTURE, JSON.stringify(config)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = writer;
  let stderr = '';
  let batches = 0;
  writer.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  writer.stdout?.on('data', (chunk: Buffer) => {
    const lines = chunk.toString('utf8').trim().split('\n');
    batches = Number(lines.at(-1)?.split(' ')[1] ?? batches);
  });
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (writer.exitCode !== null) throw new Error(`writer exited with ${writer.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`writer completed too few files in time: ${stderr}`);
    const completed = (await listFiles(lake)).filter((f) => !f.endsWith('.tmp'));
    const types = new Set(completed.map(typeOf));
    if (completed.length >= COMPLETED_BEFORE_KILL && types.size === SETS_PER_BATCH.size) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const exited = once(writer, 'exit');
  writer.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  expect(batches).toBeGreaterThan(0);
}

function typeOf(file: string): SetType {
  const match = /(?:^|\/)type=(\w+)\//.exec(file);
  if (match === null) throw new Error(`no type= partition in ${file}`);
  return match[1] as SetType;
}

/** A sink started on the same lake: `now` decides whether the leftovers count as a dead writer's. */
async function startAndStopSink(lake: string, now: number, format: Record<string, unknown>): Promise<void> {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const config = fileSinkDefinition.config.parse({ ...format, path: lake, roll: { max_age: '1m' } });
  const sink = fileSinkDefinition.create(
    config,
    testContext({ id: 'restart', clock: { now: () => now, scheduler } }),
  );
  await sink.connect?.();
  await sink.close?.();
}

/** After a restart long enough after the crash, the temporaries are gone and the completed files untouched. */
async function expectRestartCleansUp(
  lake: string,
  files: readonly string[],
  format: Record<string, unknown>,
): Promise<void> {
  const completed = files.filter((f) => !f.endsWith('.tmp'));
  // Right after the crash they could still be a live replica's open files: kept.
  await startAndStopSink(lake, Date.now(), format);
  expect(await listFiles(lake)).toEqual(files);
  await startAndStopSink(lake, Date.now() + ORPHAN_AGE_MS + 1_000, format);
  expect(await listFiles(lake)).toEqual(completed);
}

describe('file sink, kill -9 mid-write', () => {
  it('parquet: every completed file reads back with the documented schema; temporaries go at restart', async () => {
    const lake = join(dir, 'lake');
    const format = { format: 'parquet', compression: 'snappy' };
    await runAndKill(lake, { ...format, row_group_size: 1, roll: { max_bytes: 64 * 1024, max_age: '1m' } });

    const files = await listFiles(lake);
    const completed = files.filter((f) => !f.endsWith('.tmp'));
    const temps = files.filter((f) => f.endsWith('.tmp'));
    expect(completed.length).toBeGreaterThanOrEqual(COMPLETED_BEFORE_KILL);
    expect(completed.every((f) => /\/part-[\w-]+\.parquet$/.test(f))).toBe(true);
    expect(temps.every((f) => /\/\.part-[\w-]+\.parquet\.tmp$/.test(f))).toBe(true);
    expect(new Set(completed.map(typeOf))).toEqual(new Set(SETS_PER_BATCH.keys()));

    let totalRows = 0n;
    for (const file of completed) {
      const path = join(lake, file);
      const type = typeOf(file);
      const columns = await query(
        `DESCRIBE SELECT * FROM read_parquet('${path}', hive_partitioning = false)`,
      );
      expect(
        columns.map((c) => `${String(c.column_name)} ${String(c.column_type).replaceAll('"', '')}`),
        file,
      ).toEqual(documentedColumns(type));
      const meta = await query(
        `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${path}')`,
      );
      expect(meta.find((m) => m.key === 'heapstream.schema_version')?.value, file).toBe('1');
      expect(meta.find((m) => m.key === 'heapstream.table')?.value, file).toBe(type);
      const [counts] = await query(
        `SELECT count(*) AS rows, count(DISTINCT type) AS types, min(type) AS type, count(cpu_usage) AS cpu
         FROM read_parquet('${path}', hive_partitioning = false)`,
      );
      const rows = counts?.rows as bigint;
      expect(rows, file).toBeGreaterThan(0n);
      // Whole batches only: a file never ends in half a batch.
      expect(rows % BigInt(SETS_PER_BATCH.get(type) ?? 0), file).toBe(0n);
      expect({ types: counts?.types, type: counts?.type }, file).toEqual({ types: 1n, type });
      expect(counts?.cpu, file).toBeGreaterThan(0n);
      totalRows += rows;
    }
    // What a lake reader does: one glob over everything; the temporaries stay out of it.
    const [all] = await query(
      `SELECT count(*) AS n FROM read_parquet('${lake}/**/*.parquet', union_by_name = true)`,
    );
    expect(all?.n).toBe(totalRows);

    // The kill left the writer's open files behind, and they are not readable Parquet: had they been written
    // under their final names, the glob above would have failed.
    expect(temps.length).toBeGreaterThan(0);
    let unreadable = 0;
    for (const file of temps) {
      await query(`SELECT count(*) FROM read_parquet('${join(lake, file)}')`).catch(() => unreadable++);
    }
    expect(unreadable).toBeGreaterThan(0);

    await expectRestartCleansUp(lake, files, format);
  }, 90_000);

  it('jsonl + gzip: every completed file gunzips whole and DuckDB reads it; temporaries go at restart', async () => {
    const lake = join(dir, 'lake');
    const format = { format: 'jsonl', compression: 'gzip' };
    await runAndKill(lake, { ...format, roll: { max_bytes: 32 * 1024, max_age: '1m' } });

    const files = await listFiles(lake);
    const completed = files.filter((f) => !f.endsWith('.tmp'));
    const temps = files.filter((f) => f.endsWith('.tmp'));
    expect(completed.length).toBeGreaterThanOrEqual(COMPLETED_BEFORE_KILL);
    expect(completed.every((f) => /\/part-[\w-]+\.jsonl\.gz$/.test(f))).toBe(true);
    expect(temps.every((f) => /\/\.part-[\w-]+\.jsonl\.gz\.tmp$/.test(f))).toBe(true);
    expect(temps.length).toBeGreaterThan(0);
    expect(new Set(completed.map(typeOf))).toEqual(new Set(SETS_PER_BATCH.keys()));

    for (const file of completed) {
      const path = join(lake, file);
      const type = typeOf(file);
      const allowed = new Set(['schema_version', ...documentedColumns(type).map((c) => c.split(' ')[0])]);
      // The whole file is valid gzip, and every line a complete JSON row of the documented schema.
      const lines = gunzipSync(await readFile(path))
        .toString('utf8')
        .trimEnd()
        .split('\n');
      expect(lines.length % (SETS_PER_BATCH.get(type) ?? 0), file).toBe(0);
      for (const line of lines) {
        const row = JSON.parse(line) as Record<string, unknown>;
        expect(row.schema_version, file).toBe(1);
        expect(row.type, file).toBe(type);
        expect(typeof row.key, file).toBe('string');
        expect(Date.parse(String(row.time)), file).toBeGreaterThan(0);
        expect(Date.parse(String(row.batch_time)), file).toBeGreaterThan(0);
        expect(
          Object.keys(row).filter((k) => !allowed.has(k)),
          file,
        ).toEqual([]);
      }
      const [counts] = await query(
        `SELECT count(*) AS rows, count(DISTINCT type) AS types, min(schema_version) AS version
         FROM read_ndjson('${path}', hive_partitioning = false, sample_size = -1)`,
      );
      expect(counts, file).toEqual({ rows: BigInt(lines.length), types: 1n, version: 1n });
    }
    const [all] = await query(
      `SELECT count(*) AS n FROM read_ndjson('${lake}/**/*.jsonl.gz', union_by_name = true, sample_size = -1)`,
    );
    expect(Number(all?.n)).toBeGreaterThan(0);

    await expectRestartCleansUp(lake, files, format);
  }, 90_000);
});
