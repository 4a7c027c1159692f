/**
 * Reads Avro object container files back, for one purpose: a new manifest list must repeat the parent snapshot's
 * manifests, and that list may come from any Iceberg writer. Decoding follows the file's own (writer's) schema;
 * blocks may be uncompressed or deflate (what Iceberg writers use by default).
 */
import { inflateRawSync } from 'node:zlib';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A decoded value: records are plain objects, long is bigint, bytes and fixed are Uint8Array. */
export type AvroDecoded =
  null | boolean | number | bigint | string | Uint8Array | AvroDecoded[] | { [field: string]: AvroDecoded };

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  long(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new Error('avro: truncated varint');
      const b = this.bytes[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return (result >> 1n) ^ -(result & 1n);
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Error('avro: truncated value');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function decode(r: Reader, schema: Json, named: Map<string, Json>): AvroDecoded {
  if (Array.isArray(schema)) return decode(r, schema[Number(r.long())] ?? null, named);
  if (typeof schema === 'string') return decodeNamed(r, schema, named);
  if (schema === null || typeof schema !== 'object') throw new Error('avro: bad schema');
  const type = schema.type as string;
  switch (type) {
    case 'record': {
      named.set(schema.name as string, schema);
      const out: { [field: string]: AvroDecoded } = {};
      for (const f of schema.fields as { name: string; type: Json }[]) out[f.name] = decode(r, f.type, named);
      return out;
    }
    case 'array': {
      const out: AvroDecoded[] = [];
      for (let n = r.long(); n !== 0n; n = r.long()) {
        if (n < 0n) {
          n = -n;
          r.long(); // block size in bytes
        }
        for (let i = 0n; i < n; i++) out.push(decode(r, schema.items as Json, named));
      }
      return out;
    }
    case 'map': {
      const out: { [field: string]: AvroDecoded } = {};
      for (let n = r.long(); n !== 0n; n = r.long()) {
        if (n < 0n) {
          n = -n;
          r.long();
        }
        for (let i = 0n; i < n; i++) {
          const key = Buffer.from(r.take(Number(r.long()))).toString('utf8');
          out[key] = decode(r, schema.values as Json, named);
        }
      }
      return out;
    }
    case 'fixed':
      named.set(schema.name as string, schema);
      return Uint8Array.from(r.take(schema.size as number));
    case 'enum':
      named.set(schema.name as string, schema);
      return (schema.symbols as string[])[Number(r.long())] ?? null;
    default:
      return decodeNamed(r, type, named);
  }
}

function decodeNamed(r: Reader, type: string, named: Map<string, Json>): AvroDecoded {
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return r.take(1)[0] === 1;
    case 'int':
      return Number(r.long());
    case 'long':
      return r.long();
    case 'float': {
      const b = r.take(4);
      return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
    }
    case 'double': {
      const b = r.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case 'bytes':
      return Uint8Array.from(r.take(Number(r.long())));
    case 'string':
      return Buffer.from(r.take(Number(r.long()))).toString('utf8');
    default: {
      const schema = named.get(type);
      if (schema === undefined) throw new Error(`avro: unknown type ${type}`);
      return decode(r, schema, named);
    }
  }
}

/**
 * The records and the header metadata of an Avro object container file.
 *
 * @example
 * const { records } = readAvroContainer(await store.get(key));
 */
export function readAvroContainer(bytes: Uint8Array): {
  records: AvroDecoded[];
  metadata: Record<string, string>;
} {
  const r = new Reader(bytes);
  const magic = Buffer.from(r.take(4)).toString('latin1');
  if (magic !== 'Obj\x01') throw new Error('avro: not an object container file');
  const metadata: Record<string, string> = {};
  for (let n = r.long(); n !== 0n; n = r.long()) {
    if (n < 0n) {
      n = -n;
      r.long();
    }
    for (let i = 0n; i < n; i++) {
      const key = Buffer.from(r.take(Number(r.long()))).toString('utf8');
      metadata[key] = Buffer.from(r.take(Number(r.long()))).toString('utf8');
    }
  }
  const sync = r.take(16);
  const schema = JSON.parse(metadata['avro.schema'] ?? 'null') as Json;
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`avro: codec ${codec} is not supported`);
  const records: AvroDecoded[] = [];
  while (r.pos < bytes.length) {
    const count = Number(r.long());
    const size = Number(r.long());
    const raw = r.take(size);
    const block = new Reader(codec === 'deflate' ? inflateRawSync(raw) : raw);
    const named = new Map<string, Json>();
    for (let i = 0; i < count; i++) records.push(decode(block, schema, named));
    if (Buffer.compare(r.take(16), sync) !== 0) throw new Error('avro: sync marker mismatch');
  }
  return { records, metadata };
}
