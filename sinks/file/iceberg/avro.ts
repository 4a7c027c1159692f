/**
 * A writer of Avro object container files, for Iceberg manifests and manifest lists. It knows only the Avro types
 * those need: records, int/long/double/string/bytes/boolean, unions with null, and arrays (Iceberg stores maps
 * with non-string keys as arrays of key/value records). Blocks are not compressed (codec `null`), which every
 * Avro reader accepts; manifests are small.
 */
import { randomBytes } from 'node:crypto';

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'double' | 'string' | 'bytes';

export interface AvroField {
  readonly name: string;
  readonly type: AvroType;
  /** Iceberg's field id; Avro readers ignore attributes they do not know. */
  readonly 'field-id'?: number;
  readonly default?: null;
  readonly doc?: string;
}

export interface AvroRecord {
  readonly type: 'record';
  readonly name: string;
  readonly fields: readonly AvroField[];
}

export interface AvroArray {
  readonly type: 'array';
  readonly items: AvroType;
  readonly 'element-id'?: number;
  /** `map`: Iceberg's map with non-string keys, an array of records with fields `key` and `value`. */
  readonly logicalType?: 'map';
}

/** A primitive with an annotation (Iceberg's partition values: `{ type: 'int', logicalType: 'date' }`). */
export interface AvroAnnotated {
  readonly type: AvroPrimitive;
  readonly logicalType?: string;
  readonly adjustToUTC?: boolean;
}

/** A union; only `['null', T]` is supported, which is how Iceberg writes optional fields. */
export type AvroUnion = readonly ['null', AvroType];

export type AvroType = AvroPrimitive | AvroRecord | AvroArray | AvroAnnotated | AvroUnion;

/** A value for a field: numbers or bigints for int/long, Uint8Array for bytes, arrays and plain objects. */
export type AvroValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly AvroValue[]
  | { readonly [field: string]: AvroValue };

/** A growable byte buffer with Avro's binary encodings. */
export class AvroEncoder {
  private buf = new Uint8Array(1024);
  private length = 0;

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** int and long share the zig-zag varint encoding; int's range is the caller's to keep. */
  long(value: number | bigint): void {
    let n = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
    this.reserve(10);
    while (n >= 0x80n) {
      this.buf[this.length++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.length++] = Number(n);
  }

  double(value: number): void {
    this.reserve(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.length, value, true);
    this.length += 8;
  }

  boolean(value: boolean): void {
    this.reserve(1);
    this.buf[this.length++] = value ? 1 : 0;
  }

  bytesValue(value: Uint8Array): void {
    this.long(value.length);
    this.raw(value);
  }

  string(value: string): void {
    this.bytesValue(Buffer.from(value, 'utf8'));
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/**
 * Encodes one value of `type`. Throws, naming the path, when the value does not fit (a missing required field,
 * a string for a long): a manifest with a wrong value would be unreadable, so this is a bug to surface.
 */
export function encodeValue(out: AvroEncoder, type: AvroType, value: AvroValue, path = '$'): void {
  if (Array.isArray(type)) {
    const union = type as AvroUnion;
    if (value === null || value === undefined) {
      out.long(0);
      return;
    }
    out.long(1);
    encodeValue(out, union[1], value, path);
    return;
  }
  if (typeof type === 'string') {
    encodePrimitive(out, type, value, path);
    return;
  }
  const complex = type as AvroRecord | AvroArray | AvroAnnotated;
  switch (complex.type) {
    case 'record': {
      const record = complex;
      if (
        value === null ||
        typeof value !== 'object' ||
        Array.isArray(value) ||
        value instanceof Uint8Array
      ) {
        throw new TypeError(`avro: ${path} should be a record ${record.name}`);
      }
      const fields = value as { readonly [field: string]: AvroValue };
      for (const field of record.fields) {
        encodeValue(out, field.type, fields[field.name] ?? null, `${path}.${field.name}`);
      }
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) throw new TypeError(`avro: ${path} should be an array`);
      const items = value as readonly AvroValue[];
      // One block with all items, then the empty block that ends the array.
      if (items.length > 0) {
        out.long(items.length);
        items.forEach((item, i) => encodeValue(out, complex.items, item, `${path}[${i}]`));
      }
      out.long(0);
      return;
    }
    default:
      encodePrimitive(out, complex.type, value, path);
  }
}

function encodePrimitive(out: AvroEncoder, type: AvroPrimitive, value: AvroValue, path: string): void {
  switch (type) {
    case 'null':
      if (value !== null) throw new TypeError(`avro: ${path} should be null`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new TypeError(`avro: ${path} should be a boolean`);
      out.boolean(value);
      return;
    case 'int':
    case 'long':
      if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) {
        out.long(value);
        return;
      }
      throw new TypeError(`avro: ${path} should be an integer (${type})`);
    case 'double':
      if (typeof value !== 'number') throw new TypeError(`avro: ${path} should be a number`);
      out.double(value);
      return;
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`avro: ${path} should be a string`);
      out.string(value);
      return;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new TypeError(`avro: ${path} should be bytes`);
      out.bytesValue(value);
      return;
  }
}

const MAGIC = new Uint8Array([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1

/**
 * A whole Avro object container file: header (schema and `metadata`), one block of `records`, sync markers.
 *
 * @example
 * const bytes = avroContainer(manifestEntrySchema, entries, { 'format-version': '2' });
 */
export function avroContainer(
  schema: AvroRecord,
  records: readonly AvroValue[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const out = new AvroEncoder();
  const sync = randomBytes(16);
  out.raw(MAGIC);
  const meta: [string, string][] = [
    ['avro.schema', JSON.stringify(schema)],
    ['avro.codec', 'null'],
    ...Object.entries(metadata),
  ];
  // The header's metadata is an Avro map<bytes>: one block of entries, then the empty block.
  out.long(meta.length);
  for (const [key, value] of meta) {
    out.string(key);
    out.bytesValue(Buffer.from(value, 'utf8'));
  }
  out.long(0);
  out.raw(sync);
  if (records.length > 0) {
    const block = new AvroEncoder();
    records.forEach((record, i) => encodeValue(block, schema, record, `record ${i}`));
    out.long(records.length);
    out.long(block.bytes().length);
    out.raw(block.bytes());
    out.raw(sync);
  }
  return out.bytes().slice();
}
