/**
 * The Iceberg schema of the file sink's table, derived from the Parquet schema the sink writes (parquet-columns.ts),
 * so that the two cannot drift: each Parquet column becomes an Iceberg field, and both carry the same field id
 * (Iceberg readers find columns in data files by id, not by name).
 *
 * Ids come from the table: a column the table already has keeps its id; a new one (a new catalogue metric, a set
 * type whose columns the table has not seen) gets the next id after the table's last, and the commit that adds
 * its first file adds it to the table schema (schema evolution, `add-schema`).
 */
import type { SchemaElement } from '../parquet-columns.js';

export type IcebergPrimitive = 'long' | 'double' | 'string' | 'timestamptz' | 'int' | 'boolean';

export interface IcebergStruct {
  readonly type: 'struct';
  readonly fields: readonly IcebergField[];
}

export interface IcebergList {
  readonly type: 'list';
  readonly 'element-id': number;
  readonly element: IcebergType;
  readonly 'element-required': boolean;
}

export interface IcebergMap {
  readonly type: 'map';
  readonly 'key-id': number;
  readonly key: IcebergType;
  readonly 'value-id': number;
  readonly value: IcebergType;
  readonly 'value-required': boolean;
}

export type IcebergType = IcebergPrimitive | IcebergStruct | IcebergList | IcebergMap;

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergType;
  readonly doc?: string;
}

/** A table schema as the REST catalog and table metadata serialize it. */
export interface IcebergSchema {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly fields: readonly IcebergField[];
  readonly 'identifier-field-ids'?: readonly number[];
}

/** The partition spec every heapstream table uses: by day of `time`, then by set type. */
export interface PartitionSpec {
  readonly 'spec-id': number;
  readonly fields: readonly {
    readonly 'source-id': number;
    readonly 'field-id': number;
    readonly name: string;
    readonly transform: string;
  }[];
}

/** Partition field ids start at 1000, as the spec advises, so they never clash with column ids. */
export function partitionSpec(schema: IcebergSchema): PartitionSpec {
  return {
    'spec-id': 0,
    fields: [
      { 'source-id': fieldId(schema, 'time'), 'field-id': 1000, name: 'time_day', transform: 'day' },
      { 'source-id': fieldId(schema, 'type'), 'field-id': 1001, name: 'type', transform: 'identity' },
    ],
  };
}

function fieldId(schema: IcebergSchema, name: string): number {
  const field = schema.fields.find((f) => f.name === name);
  if (field === undefined) throw new Error(`iceberg: the table schema has no column ${name}`);
  return field.id;
}

/** Largest field id used anywhere in a schema (nested ones included). */
export function highestFieldId(fields: readonly IcebergField[]): number {
  let max = 0;
  const visit = (type: IcebergType): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const f of type.fields) {
        max = Math.max(max, f.id);
        visit(f.type);
      }
    } else if (type.type === 'list') {
      max = Math.max(max, type['element-id']);
      visit(type.element);
    } else {
      max = Math.max(max, type['key-id'], type['value-id']);
      visit(type.key);
      visit(type.value);
    }
  };
  visit({ type: 'struct', fields });
  return max;
}

/**
 * Field ids for the sink's Parquet files, kept in step with the table: `annotate` gives a file's Parquet schema
 * its field ids, reusing the table's and allocating new ones; `fields` is then the table's fields plus every
 * column allocated since, in order, which the next commit makes the table's schema if it grew.
 *
 * @example
 * const ids = new FieldIds(table.schema.fields, table.lastColumnId);
 * const schema = ids.annotate(parquetSchema(layoutFor('pod'))); // every element with its field_id
 */
export class FieldIds {
  private readonly top: IcebergField[];
  private last: number;

  /**
   * `everywhere`: top-level columns every file has. Others are optional in the table even where a file has them
   * required (namespace rows have no `filesystems`), or a reader would refuse the files without them.
   */
  constructor(
    fields: readonly IcebergField[],
    lastColumnId: number,
    private readonly everywhere?: ReadonlySet<string>,
  ) {
    this.top = [...fields];
    this.last = Math.max(lastColumnId, highestFieldId(fields));
  }

  /** The table's fields and those added for files written since. */
  get fields(): readonly IcebergField[] {
    return this.top;
  }

  get lastColumnId(): number {
    return this.last;
  }

  /** Takes in the fields of another schema (a pending commit's) that this one does not have yet. */
  merge(fields: readonly IcebergField[]): void {
    for (const field of fields) {
      if (!this.top.some((f) => f.name === field.name)) this.top.push(field);
    }
    this.last = Math.max(this.last, highestFieldId(fields));
  }

  /** The Parquet schema (root first, depth-first as parquetSchema gives it) with a field_id on every column. */
  annotate(elements: readonly SchemaElement[]): SchemaElement[] {
    const root = elements[0];
    if (root === undefined) return [];
    const out: SchemaElement[] = [root];
    let at = 1;
    for (let i = 0; i < (root.num_children ?? 0); i++) {
      const name = (elements[at] as SchemaElement).name;
      const existing = this.top.find((f) => f.name === name);
      const [field, next] = this.convert(elements, at, existing, out);
      if (existing === undefined) {
        const required = field.required && (this.everywhere?.has(field.name) ?? true);
        this.top.push({ ...field, required });
      }
      at = next;
    }
    return out;
  }

  private next(existing: number | undefined): number {
    if (existing !== undefined) return existing;
    this.last += 1;
    return this.last;
  }

  /** Converts the element at `at` (and its children) to an Iceberg field, appending annotated elements to `out`. */
  private convert(
    elements: readonly SchemaElement[],
    at: number,
    existing: IcebergField | undefined,
    out: SchemaElement[],
  ): [IcebergField, number] {
    const element = elements[at] as SchemaElement;
    const id = this.next(existing?.id);
    const required = element.repetition_type === 'REQUIRED';
    out.push({ ...element, field_id: id });
    if (element.num_children === undefined) {
      return [{ id, name: element.name, required, type: primitiveType(element) }, at + 1];
    }
    const [type, next] = this.convertGroup(elements, at, existing?.type, out);
    return [{ id, name: element.name, required, type }, next];
  }

  private convertGroup(
    elements: readonly SchemaElement[],
    at: number,
    existing: IcebergType | undefined,
    out: SchemaElement[],
  ): [IcebergType, number] {
    const element = elements[at] as SchemaElement;
    if (element.converted_type === 'MAP') {
      // MAP → repeated key_value → key, value: the ids go on key and value, the middle group has none.
      const old = typeof existing === 'object' && existing.type === 'map' ? existing : undefined;
      out.push(elements[at + 1] as SchemaElement);
      const keyId = this.next(old?.['key-id']);
      const keyElement = elements[at + 2] as SchemaElement;
      out.push({ ...keyElement, field_id: keyId });
      const valueElement = elements[at + 3] as SchemaElement;
      const valueId = this.next(old?.['value-id']);
      out.push({ ...valueElement, field_id: valueId });
      if (valueElement.num_children !== undefined) throw new Error('iceberg: maps of groups are not used');
      const type: IcebergMap = {
        type: 'map',
        'key-id': keyId,
        key: primitiveType(keyElement),
        'value-id': valueId,
        value: primitiveType(valueElement),
        'value-required': valueElement.repetition_type === 'REQUIRED',
      };
      return [type, at + 4];
    }
    if (element.converted_type === 'LIST') {
      // LIST → repeated list → element: the element id goes on `element`.
      const old = typeof existing === 'object' && existing.type === 'list' ? existing : undefined;
      out.push(elements[at + 1] as SchemaElement);
      const elementAt = at + 2;
      const itemElement = elements[elementAt] as SchemaElement;
      const elementId = this.next(old?.['element-id']);
      out.push({ ...itemElement, field_id: elementId });
      let itemType: IcebergType;
      let next: number;
      if (itemElement.num_children === undefined) {
        itemType = primitiveType(itemElement);
        next = elementAt + 1;
      } else {
        [itemType, next] = this.convertGroup(elements, elementAt, old?.element, out);
      }
      const type: IcebergList = {
        type: 'list',
        'element-id': elementId,
        element: itemType,
        'element-required': itemElement.repetition_type === 'REQUIRED',
      };
      return [type, next];
    }
    // A plain group is a struct; the caller has pushed its element already.
    const old = typeof existing === 'object' && existing.type === 'struct' ? existing : undefined;
    const fields: IcebergField[] = [];
    let next = at + 1;
    for (let i = 0; i < (element.num_children ?? 0); i++) {
      const name = (elements[next] as SchemaElement).name;
      const [field, after] = this.convert(
        elements,
        next,
        old?.fields.find((f) => f.name === name),
        out,
      );
      fields.push(field);
      next = after;
    }
    return [{ type: 'struct', fields }, next];
  }
}

function primitiveType(element: SchemaElement): IcebergPrimitive {
  switch (element.type) {
    case 'INT64':
      return element.logical_type?.type === 'TIMESTAMP' ? 'timestamptz' : 'long';
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
      return 'string';
    case 'INT32':
      return 'int';
    case 'BOOLEAN':
      return 'boolean';
    default:
      throw new Error(`iceberg: Parquet column ${element.name} has type ${String(element.type)}`);
  }
}

/** Field id → the Iceberg primitive type, for every leaf of a Parquet schema annotated by FieldIds. */
export function leafTypes(fields: readonly IcebergField[]): Map<number, IcebergPrimitive> {
  const out = new Map<number, IcebergPrimitive>();
  for (const f of fields) if (typeof f.type === 'string') out.set(f.id, f.type);
  return out;
}
