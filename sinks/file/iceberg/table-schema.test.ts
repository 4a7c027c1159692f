import { describe, expect, it } from 'vitest';
import { parquetSchema } from '../parquet-columns.js';
import { layoutFor } from '../schema.js';
import { FieldIds, highestFieldId, partitionSpec, type IcebergField } from './table-schema.js';

const named = (fields: readonly IcebergField[], name: string): IcebergField | undefined =>
  fields.find((f) => f.name === name);

describe('field ids of the sink Parquet files', () => {
  it('gives every column of a new table a distinct id and the Iceberg type of its Parquet column', () => {
    const ids = new FieldIds([], 0);
    const schema = ids.annotate(parquetSchema(layoutFor('pod')));
    const all = schema
      .slice(1)
      .filter((e) => e.field_id !== undefined)
      .map((e) => e.field_id);
    expect(new Set(all).size).toBe(all.length);
    expect(highestFieldId(ids.fields)).toBe(Math.max(...(all as number[])));
    expect(named(ids.fields, 'time')).toMatchObject({ type: 'timestamptz', required: true });
    expect(named(ids.fields, 'cpu_usage')).toMatchObject({ type: 'long', required: false });
    const float = layoutFor('pod').metrics.find((m) => m.valueType === 'float');
    expect(named(ids.fields, float?.column ?? '')).toMatchObject({ type: 'double', required: false });
    expect(named(ids.fields, 'labels')?.type).toMatchObject({ type: 'map', key: 'string', value: 'string' });
    const filesystems = named(ids.fields, 'filesystems')?.type;
    expect(filesystems).toMatchObject({ type: 'list', 'element-required': true });
  });

  it('keeps the ids a table has and gives only new columns new ones, after the last', () => {
    const first = new FieldIds([], 0);
    first.annotate(parquetSchema(layoutFor('ns')));
    const tableFields = first.fields;
    const last = first.lastColumnId;

    const next = new FieldIds(tableFields, last);
    const pod = next.annotate(parquetSchema(layoutFor('pod')));
    for (const field of tableFields) expect(named(next.fields, field.name)).toEqual(field);
    const added = next.fields.filter((f) => !tableFields.some((t) => t.name === f.name));
    expect(added.map((f) => f.name)).toContain('cpu_usage');
    expect(Math.min(...added.map((f) => f.id))).toBe(last + 1);
    // The Parquet element carries the same id as the table column of its name.
    const time = pod.find((e) => e.name === 'time');
    expect(time?.field_id).toBe(named(tableFields, 'time')?.id);
  });

  it('makes columns that not every set type has optional in the table', () => {
    const ids = new FieldIds([], 0, new Set(['time', 'type', 'key']));
    ids.annotate(parquetSchema(layoutFor('pod')));
    expect(named(ids.fields, 'time')?.required).toBe(true);
    expect(named(ids.fields, 'filesystems')?.required).toBe(false);
  });

  it('partitions by day of time and by set type, with partition field ids from 1000', () => {
    const ids = new FieldIds([], 0);
    ids.annotate(parquetSchema(layoutFor('node')));
    const spec = partitionSpec({ type: 'struct', 'schema-id': 0, fields: ids.fields });
    expect(spec.fields).toEqual([
      { 'source-id': named(ids.fields, 'time')?.id, 'field-id': 1000, name: 'time_day', transform: 'day' },
      { 'source-id': named(ids.fields, 'type')?.id, 'field-id': 1001, name: 'type', transform: 'identity' },
    ]);
  });
});
