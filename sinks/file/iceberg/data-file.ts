/**
 * An Iceberg data file entry from a Parquet file's footer: row count, size, and per-column metrics keyed by field
 * id (column sizes for every column; value and null counts and bounds for top-level numbers and times, which is
 * what readers prune on). Strings get no bounds: the footer's are truncated, and a truncated upper bound is wrong.
 */
import type { ParquetFooter } from '../part-file.js';
import type { SchemaElement } from '../parquet-columns.js';
import type { DataFile } from './manifest.js';

/** Leaf column path (dotted, as path_in_schema) → its field id and whether it is a top-level column. */
function leafIds(schema: readonly SchemaElement[]): Map<string, { id: number; top: boolean }> {
  const out = new Map<string, { id: number; top: boolean }>();
  let at = 1;
  const visit = (path: string[]): void => {
    const element = schema[at++] as SchemaElement;
    const here = [...path, element.name];
    if (element.num_children === undefined) {
      if (element.field_id !== undefined) {
        out.set(here.join('.'), { id: element.field_id, top: path.length === 0 });
      }
      return;
    }
    for (let i = 0; i < element.num_children; i++) visit(here);
  };
  const root = schema[0];
  for (let i = 0; i < (root?.num_children ?? 0); i++) visit([]);
  return out;
}

/** Iceberg's single-value serialization of a long or timestamp (8 bytes little-endian), base64. */
function longBound(value: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(value);
  return b.toString('base64');
}

function doubleBound(value: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return b.toString('base64');
}

type Bound = bigint | number | undefined;

function mergeBound(a: Bound, b: unknown, pick: (x: number) => boolean): Bound {
  if (typeof b !== 'bigint' && typeof b !== 'number') return a;
  if (a === undefined) return b;
  // Same column, so both are bigint (INT64) or both number (DOUBLE).
  return pick(a < b ? -1 : a > b ? 1 : 0) ? a : b;
}

/**
 * @example
 * const entry = dataFileOf(file.footer(), { path: store.url(key), partition: { timeDay: 20428, type: 'pod' } });
 */
export function dataFileOf(
  footer: ParquetFooter,
  where: { path: string; partition: DataFile['partition'] },
): DataFile {
  const ids = leafIds(footer.schema);
  const columnSizes: Record<number, number> = {};
  const valueCounts: Record<number, number> = {};
  const nullValueCounts: Record<number, number> = {};
  const lower = new Map<number, Bound>();
  const upper = new Map<number, Bound>();
  const splitOffsets: number[] = [];
  for (const group of footer.rowGroups) {
    let start: bigint | undefined;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta === undefined) continue;
      const offset = meta.dictionary_page_offset ?? meta.data_page_offset;
      if (start === undefined || offset < start) start = offset;
      const leaf = ids.get(meta.path_in_schema.join('.'));
      if (leaf === undefined) continue;
      columnSizes[leaf.id] = (columnSizes[leaf.id] ?? 0) + Number(meta.total_compressed_size);
      if (!leaf.top) continue;
      valueCounts[leaf.id] = (valueCounts[leaf.id] ?? 0) + Number(meta.num_values);
      const stats = meta.statistics;
      if (stats?.null_count !== undefined) {
        nullValueCounts[leaf.id] = (nullValueCounts[leaf.id] ?? 0) + Number(stats.null_count);
      }
      if (meta.type === 'INT64' || meta.type === 'DOUBLE') {
        lower.set(
          leaf.id,
          mergeBound(lower.get(leaf.id), stats?.min_value, (c) => c <= 0),
        );
        upper.set(
          leaf.id,
          mergeBound(upper.get(leaf.id), stats?.max_value, (c) => c >= 0),
        );
      }
    }
    if (start !== undefined) splitOffsets.push(Number(start));
  }
  const encode = (bounds: Map<number, Bound>): Record<number, string> => {
    const out: Record<number, string> = {};
    for (const [id, value] of bounds) {
      if (typeof value === 'bigint') out[id] = longBound(value);
      else if (typeof value === 'number' && Number.isFinite(value)) out[id] = doubleBound(value);
    }
    return out;
  };
  return {
    path: where.path,
    recordCount: footer.rows,
    sizeInBytes: footer.size,
    partition: where.partition,
    columnSizes,
    valueCounts,
    nullValueCounts,
    lowerBounds: encode(lower),
    upperBounds: encode(upper),
    splitOffsets: splitOffsets.sort((a, b) => a - b),
  };
}
