/**
 * Iceberg v2 manifests and manifest lists (table spec, "Manifests" and "Manifest Lists"), written as Avro with the
 * spec's field ids. Only what an append needs: data files with status ADDED, one manifest per commit.
 */
import { avroContainer, type AvroArray, type AvroField, type AvroRecord, type AvroType } from './avro.js';
import type { IcebergSchema, PartitionSpec } from './table-schema.js';

/** One data file of a commit, with the metrics readers use to prune. */
export interface DataFile {
  /** Absolute location (`s3://…`), as stored in the manifest. */
  readonly path: string;
  readonly recordCount: number;
  readonly sizeInBytes: number;
  /** Days since 1970-01-01 of every row's `time`, and the set type: the partition tuple. */
  readonly partition: { readonly timeDay: number; readonly type: string };
  /** Field id → value; absent ids are unknown. Bounds are Iceberg's single-value serialization. */
  readonly columnSizes: Readonly<Record<number, number>>;
  readonly valueCounts: Readonly<Record<number, number>>;
  readonly nullValueCounts: Readonly<Record<number, number>>;
  readonly lowerBounds: Readonly<Record<number, string>>;
  readonly upperBounds: Readonly<Record<number, string>>;
  /** Row group start offsets, ascending. */
  readonly splitOffsets: readonly number[];
}

const optional = (type: AvroType): AvroType => ['null', type] as const;

function intMap(name: string, keyId: number, valueId: number, value: AvroType): AvroArray {
  return {
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name,
      fields: [
        { name: 'key', type: 'int', 'field-id': keyId },
        { name: 'value', type: value, 'field-id': valueId },
      ],
    },
  };
}

function field(id: number, name: string, type: AvroType, required: boolean): AvroField {
  return required
    ? { name, type, 'field-id': id }
    : { name, type: optional(type), 'field-id': id, default: null };
}

const PARTITION_RECORD: AvroRecord = {
  type: 'record',
  name: 'r102',
  fields: [
    field(1000, 'time_day', { type: 'int', logicalType: 'date' }, false),
    field(1001, 'type', 'string', false),
  ],
};

/** The manifest_entry record for format version 2 (the spec's field ids). */
export const MANIFEST_ENTRY: AvroRecord = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    field(0, 'status', 'int', true),
    field(1, 'snapshot_id', 'long', false),
    field(3, 'sequence_number', 'long', false),
    field(4, 'file_sequence_number', 'long', false),
    field(
      2,
      'data_file',
      {
        type: 'record',
        name: 'r2',
        fields: [
          field(134, 'content', 'int', true),
          field(100, 'file_path', 'string', true),
          field(101, 'file_format', 'string', true),
          field(102, 'partition', PARTITION_RECORD, true),
          field(103, 'record_count', 'long', true),
          field(104, 'file_size_in_bytes', 'long', true),
          field(108, 'column_sizes', intMap('k117_v118', 117, 118, 'long'), false),
          field(109, 'value_counts', intMap('k119_v120', 119, 120, 'long'), false),
          field(110, 'null_value_counts', intMap('k121_v122', 121, 122, 'long'), false),
          field(125, 'lower_bounds', intMap('k126_v127', 126, 127, 'bytes'), false),
          field(128, 'upper_bounds', intMap('k129_v130', 129, 130, 'bytes'), false),
          field(131, 'key_metadata', 'bytes', false),
          field(132, 'split_offsets', { type: 'array', items: 'long', 'element-id': 133 }, false),
          field(140, 'sort_order_id', 'int', false),
        ],
      },
      true,
    ),
  ],
};

/** The manifest_file record of a manifest list, format version 2. */
export const MANIFEST_FILE: AvroRecord = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    field(500, 'manifest_path', 'string', true),
    field(501, 'manifest_length', 'long', true),
    field(502, 'partition_spec_id', 'int', true),
    field(517, 'content', 'int', true),
    field(515, 'sequence_number', 'long', true),
    field(516, 'min_sequence_number', 'long', true),
    field(503, 'added_snapshot_id', 'long', true),
    field(504, 'added_files_count', 'int', true),
    field(505, 'existing_files_count', 'int', true),
    field(506, 'deleted_files_count', 'int', true),
    field(512, 'added_rows_count', 'long', true),
    field(513, 'existing_rows_count', 'long', true),
    field(514, 'deleted_rows_count', 'long', true),
    field(
      507,
      'partitions',
      {
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            field(509, 'contains_null', 'boolean', true),
            field(518, 'contains_nan', 'boolean', false),
            field(510, 'lower_bound', 'bytes', false),
            field(511, 'upper_bound', 'bytes', false),
          ],
        },
      },
      false,
    ),
    field(519, 'key_metadata', 'bytes', false),
  ],
};

function entries<T>(map: Readonly<Record<number, T>>, convert: (v: T) => number | Uint8Array) {
  return Object.entries(map).map(([key, value]) => ({ key: Number(key), value: convert(value) }));
}

const base64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

/**
 * A manifest of the files one commit adds (status 1, sequence numbers inherited from the manifest list).
 *
 * @example
 * const bytes = manifestFile({ snapshotId, schema, spec, files });
 */
export function manifestFile(options: {
  snapshotId: bigint;
  schema: IcebergSchema;
  spec: PartitionSpec;
  files: readonly DataFile[];
}): Uint8Array {
  const records = options.files.map((file) => ({
    status: 1,
    snapshot_id: options.snapshotId,
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: file.path,
      file_format: 'PARQUET',
      partition: { time_day: file.partition.timeDay, type: file.partition.type },
      record_count: file.recordCount,
      file_size_in_bytes: file.sizeInBytes,
      column_sizes: entries(file.columnSizes, (v) => v),
      value_counts: entries(file.valueCounts, (v) => v),
      null_value_counts: entries(file.nullValueCounts, (v) => v),
      lower_bounds: entries(file.lowerBounds, base64),
      upper_bounds: entries(file.upperBounds, base64),
      key_metadata: null,
      split_offsets: [...file.splitOffsets],
      sort_order_id: null,
    },
  }));
  return avroContainer(MANIFEST_ENTRY, records, {
    schema: JSON.stringify(options.schema),
    'schema-id': String(options.schema['schema-id']),
    'partition-spec': JSON.stringify(options.spec.fields),
    'partition-spec-id': String(options.spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
}

/** A manifest the list points at: where it is and what it holds. */
export interface ManifestRef {
  readonly path: string;
  readonly length: number;
  readonly files: readonly DataFile[];
}

/**
 * The manifest list of a snapshot: the parent snapshot's manifests (read back as bytes, kept as they are) plus
 * the new one. Iceberg's manifest list is not append-only, so the parent's entries are copied from its list.
 */
export function manifestList(options: {
  snapshotId: bigint;
  parentSnapshotId: bigint | undefined;
  sequenceNumber: bigint;
  added: ManifestRef;
  inherited: readonly Readonly<Record<string, unknown>>[];
}): Uint8Array {
  const files = options.added.files;
  const days = files.map((f) => f.partition.timeDay);
  const types = files.map((f) => f.partition.type).sort();
  const dayBytes = (day: number): Uint8Array => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(day);
    return new Uint8Array(b);
  };
  const added = {
    manifest_path: options.added.path,
    manifest_length: options.added.length,
    partition_spec_id: 0,
    content: 0,
    sequence_number: options.sequenceNumber,
    min_sequence_number: options.sequenceNumber,
    added_snapshot_id: options.snapshotId,
    added_files_count: files.length,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: files.reduce((n, f) => n + f.recordCount, 0),
    existing_rows_count: 0,
    deleted_rows_count: 0,
    partitions: [
      {
        contains_null: false,
        contains_nan: false,
        lower_bound: dayBytes(Math.min(...days)),
        upper_bound: dayBytes(Math.max(...days)),
      },
      {
        contains_null: false,
        contains_nan: false,
        lower_bound: new Uint8Array(Buffer.from(types[0] ?? '', 'utf8')),
        upper_bound: new Uint8Array(Buffer.from(types[types.length - 1] ?? '', 'utf8')),
      },
    ],
    key_metadata: null,
  };
  const metadata: Record<string, string> = {
    'snapshot-id': String(options.snapshotId),
    'sequence-number': String(options.sequenceNumber),
    'format-version': '2',
  };
  if (options.parentSnapshotId !== undefined) {
    metadata['parent-snapshot-id'] = String(options.parentSnapshotId);
  }
  return avroContainer(MANIFEST_FILE, [added, ...(options.inherited as never[])], metadata);
}
