import type { ColumnSource, ParquetWriter } from 'hyparquet-writer';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import { rowTime, splitSet, type Entry, type FamilyEntry } from './rows.js';
import {
  LABEL_COLUMNS,
  SCHEMA_VERSION,
  type LabeledFamily,
  type MetricColumn,
  type TableLayout,
} from './schema.js';

export type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const TIMESTAMP_UTC_MICROS = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } as const;

function stringColumn(name: string, required: boolean): SchemaElement {
  return {
    name,
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    repetition_type: required ? 'REQUIRED' : 'OPTIONAL',
  };
}

function timestampColumn(name: string, required: boolean): SchemaElement {
  return {
    name,
    type: 'INT64',
    repetition_type: required ? 'REQUIRED' : 'OPTIONAL',
    logical_type: TIMESTAMP_UTC_MICROS,
  };
}

function numberColumn(m: MetricColumn): SchemaElement {
  return { name: m.column, type: m.valueType === 'int' ? 'INT64' : 'DOUBLE', repetition_type: 'OPTIONAL' };
}

function mapColumn(name: string, value: SchemaElement): SchemaElement[] {
  return [
    { name, repetition_type: 'REQUIRED', converted_type: 'MAP', num_children: 1 },
    { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
    stringColumn('key', true),
    value,
  ];
}

function listOfStructs(name: string, fields: SchemaElement[], childCount: number): SchemaElement[] {
  return [
    { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'REQUIRED', num_children: childCount },
    ...fields,
  ];
}

function familyColumn(family: LabeledFamily): SchemaElement[] {
  const fields = [...family.keyLabels.map((k) => stringColumn(k, true)), ...family.fields.map(numberColumn)];
  return listOfStructs(family.column, fields, fields.length);
}

/**
 * The Parquet schema of a layout (flattened depth-first, as Parquet stores it). See README.md for the columns.
 *
 * @example
 * parquetSchema(layoutFor('pod'))[1]; // { name: 'time', type: 'INT64', logical_type: TIMESTAMP(µs, UTC) … }
 */
export function parquetSchema(layout: TableLayout): SchemaElement[] {
  const top: SchemaElement[][] = [
    [timestampColumn('time', true)],
    [timestampColumn('batch_time', true)],
    [timestampColumn('start_time', false)],
    [stringColumn('type', true)],
    [stringColumn('key', true)],
    ...LABEL_COLUMNS.map((c) => [stringColumn(c.column, false)]),
    mapColumn('labels', stringColumn('value', true)),
    ...layout.metrics.map((m) => [numberColumn(m)]),
    ...layout.families.map(familyColumn),
    mapColumn('other_values', { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }),
    listOfStructs(
      'other_labeled',
      [
        stringColumn('name', true),
        ...mapColumn('labels', stringColumn('value', true)),
        { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      ],
      3,
    ),
  ];
  return [{ name: 'root', num_children: top.length }, ...top.flat()];
}

/** Key-value metadata that makes a file self-describing: schema version, set type, each metric's unit. */
export function parquetMetadata(layout: TableLayout): { key: string; value: string }[] {
  const units: Record<string, string> = {};
  for (const m of layout.metrics) units[m.column] = `${m.metric} (${m.unit})`;
  for (const f of layout.families)
    for (const m of f.fields) units[`${f.column}.${m.column}`] = `${m.metric} (${m.unit})`;
  return [
    { key: 'heapstream.schema_version', value: String(SCHEMA_VERSION) },
    { key: 'heapstream.table', value: layout.name },
    { key: 'heapstream.columns', value: JSON.stringify(units) },
  ];
}

function toInt64(value: number | undefined): bigint | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  // Integers stay exact; a fraction in an integer metric is a bug upstream, rounded rather than dropped.
  return BigInt(Number.isInteger(value) ? value : Math.round(value));
}

function toMicros(ms: number): bigint {
  return BigInt(Math.round(ms * 1000));
}

/**
 * Row-group buffer: one array per top-level column, filled set by set, handed to the writer as a whole.
 *
 * @example
 * const cols = new ParquetColumns(layoutFor('pod')); cols.append(batch, batch.sets); writer.write({ columnData: cols.take() });
 */
export class ParquetColumns {
  private time: bigint[] = [];
  private batchTime: bigint[] = [];
  private startTime: (bigint | null)[] = [];
  private type: string[] = [];
  private key: string[] = [];
  private labelColumns: (string | null)[][] = [];
  private labels: Entry<string>[][] = [];
  private metrics: (bigint | number | null)[][] = [];
  private families: Record<string, unknown>[][][] = [];
  private otherValues: Entry<number>[][] = [];
  private otherLabeled: { name: string; labels: Entry<string>[]; value: number }[][] = [];

  constructor(private readonly layout: TableLayout) {
    this.reset();
  }

  get rows(): number {
    return this.time.length;
  }

  append(batch: MetricBatch, sets: readonly MetricSet[]): void {
    const layout = this.layout;
    const batchTime = toMicros(batch.timestamp);
    const batchNode = batch.scope === 'node' ? batch.node : undefined;
    for (const set of sets) {
      this.time.push(toMicros(rowTime(set, batch.timestamp)));
      this.batchTime.push(batchTime);
      this.startTime.push(set.startTime > 0 ? toMicros(set.startTime) : null);
      this.type.push(set.type);
      this.key.push(set.key);
      for (let c = 0; c < LABEL_COLUMNS.length; c++) {
        const value = set.labels[(LABEL_COLUMNS[c] as (typeof LABEL_COLUMNS)[number]).label];
        (this.labelColumns[c] as (string | null)[]).push(value ?? (c === 0 ? (batchNode ?? null) : null));
      }
      for (let m = 0; m < layout.metrics.length; m++) {
        const column = layout.metrics[m] as MetricColumn;
        const value = set.values.getAt(column.slot);
        (this.metrics[m] as (bigint | number | null)[]).push(
          column.valueType === 'int' ? toInt64(value) : (value ?? null),
        );
      }
      const parts = splitSet(set, layout);
      this.labels.push(parts.labels);
      for (let f = 0; f < layout.families.length; f++) {
        (this.families[f] as Record<string, unknown>[][]).push(
          familyStructs(layout.families[f] as LabeledFamily, parts.families[f] as FamilyEntry[]),
        );
      }
      this.otherValues.push(parts.otherValues);
      this.otherLabeled.push(otherLabeledStructs(parts.otherLabeled));
    }
  }

  /** The buffered rows as writer columns; the buffer starts empty again. */
  take(): ColumnSource[] {
    const layout = this.layout;
    const columns: ColumnSource[] = [
      { name: 'time', data: this.time },
      { name: 'batch_time', data: this.batchTime },
      { name: 'start_time', data: this.startTime },
      { name: 'type', data: this.type },
      { name: 'key', data: this.key },
      ...LABEL_COLUMNS.map((c, i) => ({ name: c.column, data: this.labelColumns[i] as (string | null)[] })),
      { name: 'labels', data: this.labels },
      ...layout.metrics.map((m, i) => ({
        name: m.column,
        data: this.metrics[i] as (bigint | number | null)[],
      })),
      ...layout.families.map((f, i) => ({
        name: f.column,
        data: this.families[i] as Record<string, unknown>[][],
      })),
      { name: 'other_values', data: this.otherValues },
      { name: 'other_labeled', data: this.otherLabeled },
    ];
    this.reset();
    return columns;
  }

  private reset(): void {
    this.time = [];
    this.batchTime = [];
    this.startTime = [];
    this.type = [];
    this.key = [];
    this.labelColumns = LABEL_COLUMNS.map(() => []);
    this.labels = [];
    this.metrics = this.layout.metrics.map(() => []);
    this.families = this.layout.families.map(() => []);
    this.otherValues = [];
    this.otherLabeled = [];
  }
}

function familyStructs(family: LabeledFamily, entries: readonly FamilyEntry[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const entry of entries) {
    const struct: Record<string, unknown> = {};
    for (let k = 0; k < family.keyLabels.length; k++) struct[family.keyLabels[k] as string] = entry.keys[k];
    for (let i = 0; i < family.fields.length; i++) {
      const field = family.fields[i] as MetricColumn;
      const value = entry.values[i];
      struct[field.column] = field.valueType === 'int' ? toInt64(value) : (value ?? null);
    }
    out.push(struct);
  }
  return out;
}

function otherLabeledStructs(
  values: readonly LabeledValue[],
): { name: string; labels: Entry<string>[]; value: number }[] {
  const out: { name: string; labels: Entry<string>[]; value: number }[] = [];
  for (const lv of values) {
    const labels: Entry<string>[] = [];
    for (const key in lv.labels) labels.push({ key, value: lv.labels[key] as string });
    out.push({ name: lv.name, labels, value: lv.value });
  }
  return out;
}
