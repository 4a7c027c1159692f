import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAvroContainer } from '../sinks/file/iceberg/avro-read.js';
import { manifestFile, manifestList, type DataFile } from '../sinks/file/iceberg/manifest.js';
import { FieldIds, partitionSpec, type IcebergSchema } from '../sinks/file/iceberg/table-schema.js';
import { parquetSchema } from '../sinks/file/parquet-columns.js';
import { layoutFor } from '../sinks/file/schema.js';
import { DUCKDB_LOAD_EXTENSIONS, ensureIcebergReaders, runReader } from './services/iceberg-readers.js';

// The Avro writer is checked by readers nobody here wrote: pyiceberg's manifest reader and DuckDB's read_avro.

const le64 = (n: bigint): string => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b.toString('base64');
};
const f64 = (n: number): string => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return b.toString('base64');
};

const PYICEBERG_READ = `
import json, sys
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import read_manifest_list
io = PyArrowFileIO()
out = []
for mf in read_manifest_list(io.new_input(sys.argv[2])):
    entries = []
    for e in mf.fetch_manifest_entry(io, discard_deleted=False):
        f = e.data_file
        entries.append({
            'status': int(e.status), 'snapshot_id': e.snapshot_id, 'sequence_number': e.sequence_number,
            'path': f.file_path, 'format': str(f.file_format.value), 'records': f.record_count,
            'size': f.file_size_in_bytes, 'partition': [f.partition[0], f.partition[1]],
            'column_sizes': {str(k): v for k, v in (f.column_sizes or {}).items()},
            'value_counts': {str(k): v for k, v in (f.value_counts or {}).items()},
            'null_value_counts': {str(k): v for k, v in (f.null_value_counts or {}).items()},
            'lower_bounds': {str(k): v.hex() for k, v in (f.lower_bounds or {}).items()},
            'upper_bounds': {str(k): v.hex() for k, v in (f.upper_bounds or {}).items()},
            'split_offsets': f.split_offsets,
        })
    out.append({
        'path': mf.manifest_path, 'length': mf.manifest_length, 'spec': mf.partition_spec_id,
        'sequence_number': mf.sequence_number, 'added_snapshot_id': mf.added_snapshot_id,
        'added_files': mf.added_files_count, 'added_rows': mf.added_rows_count,
        'partitions': [[p.contains_null, p.lower_bound.hex() if p.lower_bound else None,
                        p.upper_bound.hex() if p.upper_bound else None] for p in (mf.partitions or [])],
        'entries': entries,
    })
json.dump(out, open(sys.argv[1], 'w'))
`;

const DUCKDB_READ = `${DUCKDB_LOAD_EXTENSIONS}
import json
con = duckdb_with_extensions()
rows = con.execute("SELECT status, data_file.file_path, data_file.record_count, data_file.partition.time_day::VARCHAR, data_file.partition.type FROM read_avro(?)", [sys.argv[2]]).fetchall()
json.dump([list(r) for r in rows], open(sys.argv[1], 'w'))
`;

describe('Iceberg manifests written by the Avro writer', () => {
  let dir: string;
  const ids = new FieldIds([], 0);
  const fileSchema = ids.annotate(parquetSchema(layoutFor('pod')));
  const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: ids.fields };
  const spec = partitionSpec(schema);
  const timeId = ids.fields.find((f) => f.name === 'time')?.id as number;
  const cpuId = ids.fields.find((f) => f.name === 'cpu_usage_rate')?.id as number;

  const files: DataFile[] = [
    {
      path: 's3://lake/t/data/time_day=2026-12-06/type=pod/part-1.parquet',
      recordCount: 1234,
      sizeInBytes: 98_765,
      partition: { timeDay: 20_428, type: 'pod' },
      columnSizes: { [timeId]: 400, [cpuId]: 300 },
      valueCounts: { [timeId]: 1234, [cpuId]: 1234 },
      nullValueCounts: { [timeId]: 0, [cpuId]: 17 },
      lowerBounds: { [timeId]: le64(1_796_000_000_000_000n), [cpuId]: f64(0.25) },
      upperBounds: { [timeId]: le64(1_796_000_060_000_000n), [cpuId]: f64(3.5) },
      splitOffsets: [4, 50_000],
    },
    {
      path: 's3://lake/t/data/time_day=2026-12-07/type=pod/part-2.parquet',
      recordCount: 7,
      sizeInBytes: 2_000,
      partition: { timeDay: 20_429, type: 'pod' },
      columnSizes: {},
      valueCounts: {},
      nullValueCounts: {},
      lowerBounds: {},
      upperBounds: {},
      splitOffsets: [4],
    },
  ];

  beforeAll(async () => {
    await ensureIcebergReaders();
    dir = mkdtempSync(join(tmpdir(), 'heapstream-avro-'));
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every reader sees the entries, metrics and manifest list fields that were written', async () => {
    // Every column but the root and the repeated groups inside maps and lists, which Iceberg gives no id.
    expect(
      fileSchema.filter((e, i) => i > 0 && e.repetition_type !== 'REPEATED' && e.field_id === undefined),
    ).toEqual([]);
    const manifestPath = join(dir, 'm1.avro');
    const manifest = manifestFile({ snapshotId: 5_000_000_000_123n, schema, spec, files });
    writeFileSync(manifestPath, manifest);
    // A first snapshot's list, then a second one that repeats it (as every append does with its parent's).
    const firstList = manifestList({
      snapshotId: 111n,
      parentSnapshotId: undefined,
      sequenceNumber: 1n,
      added: { path: manifestPath, length: manifest.length, files: files.slice(1) },
      inherited: [],
    });
    const listPath = join(dir, 'snap.avro');
    writeFileSync(
      listPath,
      manifestList({
        snapshotId: 5_000_000_000_123n,
        parentSnapshotId: 111n,
        sequenceNumber: 2n,
        added: { path: manifestPath, length: manifest.length, files },
        inherited: readAvroContainer(firstList).records as Record<string, unknown>[],
      }),
    );

    const read = (await runReader(PYICEBERG_READ, [listPath])) as {
      path: string;
      length: number;
      sequence_number: number;
      added_snapshot_id: number;
      added_files: number;
      added_rows: number;
      partitions: [boolean, string, string][];
      entries: Record<string, unknown>[];
    }[];
    expect(read.map((m) => [m.sequence_number, m.added_snapshot_id, m.added_files, m.added_rows])).toEqual([
      [2, 5_000_000_000_123, 2, 1241],
      [1, 111, 1, 7],
    ]);
    expect(read[0]?.length).toBe(manifest.length);
    expect(read[0]?.partitions).toEqual([
      [false, 'cc4f0000', 'cd4f0000'],
      [false, Buffer.from('pod').toString('hex'), Buffer.from('pod').toString('hex')],
    ]);
    const hex = (m: Readonly<Record<number, string>>): Record<string, string> =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('hex')]));
    const counts = (m: Readonly<Record<number, number>>): Record<string, number> =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v]));
    expect(read[0]?.entries).toEqual(
      files.map((f) => ({
        status: 1,
        // Inherited from the manifest list, as the spec says for ADDED entries written with null.
        snapshot_id: 5_000_000_000_123,
        sequence_number: 2,
        path: f.path,
        format: 'PARQUET',
        records: f.recordCount,
        size: f.sizeInBytes,
        partition: [f.partition.timeDay, f.partition.type],
        column_sizes: counts(f.columnSizes),
        value_counts: counts(f.valueCounts),
        null_value_counts: counts(f.nullValueCounts),
        lower_bounds: hex(f.lowerBounds),
        upper_bounds: hex(f.upperBounds),
        split_offsets: f.splitOffsets,
      })),
    );

    const duck = (await runReader(DUCKDB_READ, [manifestPath])) as unknown[][];
    expect(duck).toEqual(
      files.map((f) => [
        1,
        f.path,
        f.recordCount,
        new Date(f.partition.timeDay * 86_400_000).toISOString().slice(0, 10),
        f.partition.type,
      ]),
    );
  });
});
