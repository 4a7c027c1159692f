import { isoMicros } from '../../src/model/iso-time.js';
import type { MetricBatch, MetricSet } from '../../src/model/types.js';
import { rowTime, splitSet } from './rows.js';
import { LABEL_COLUMNS, SCHEMA_VERSION, type MetricColumn, type TableLayout } from './schema.js';

/**
 * The JSONL lines of some sets of a batch: one object per set with the Parquet schema's column names; absent
 * metrics are left out rather than written as null. See README.md.
 *
 * @example
 * encodeJsonl(batch, batch.sets, layoutFor('pod')); // '{"schema_version":1,"time":"…","type":"pod",…}\n…'
 */
export function encodeJsonl(batch: MetricBatch, sets: readonly MetricSet[], layout: TableLayout): string {
  const batchTime = isoMicros(batch.timestamp);
  const batchNode = batch.scope === 'node' ? batch.node : undefined;
  let out = '';
  for (const set of sets) {
    const row: Record<string, unknown> = {
      schema_version: SCHEMA_VERSION,
      time: isoMicros(rowTime(set, batch.timestamp)),
      batch_time: batchTime,
    };
    if (set.startTime > 0) row.start_time = isoMicros(set.startTime);
    row.type = set.type;
    row.key = set.key;
    for (const c of LABEL_COLUMNS) {
      const value = set.labels[c.label] ?? (c.column === 'node' ? batchNode : undefined);
      if (value !== undefined) row[c.column] = value;
    }
    const parts = splitSet(set, layout);
    const labels: Record<string, string> = {};
    for (const entry of parts.labels) labels[entry.key] = entry.value;
    row.labels = labels;
    for (let m = 0; m < layout.metrics.length; m++) {
      const column = layout.metrics[m] as MetricColumn;
      const value = set.values.getAt(column.slot);
      if (value !== undefined) row[column.column] = value;
    }
    for (let f = 0; f < layout.families.length; f++) {
      const family = layout.families[f];
      const entries = parts.families[f];
      if (family === undefined || entries === undefined || entries.length === 0) continue;
      const structs: Record<string, unknown>[] = [];
      for (const entry of entries) {
        const struct: Record<string, unknown> = {};
        for (let k = 0; k < family.keyLabels.length; k++)
          struct[family.keyLabels[k] as string] = entry.keys[k];
        for (let i = 0; i < family.fields.length; i++) {
          const value = entry.values[i];
          if (value !== undefined) struct[(family.fields[i] as MetricColumn).column] = value;
        }
        structs.push(struct);
      }
      row[family.column] = structs;
    }
    if (parts.otherValues.length > 0) {
      const other: Record<string, number> = {};
      for (const entry of parts.otherValues) other[entry.key] = entry.value;
      row.other_values = other;
    }
    if (parts.otherLabeled.length > 0) row.other_labeled = parts.otherLabeled;
    out += JSON.stringify(row) + '\n';
  }
  return out;
}
