import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AvroEncoder, avroContainer, encodeValue, type AvroRecord } from './avro.js';
import { readAvroContainer } from './avro-read.js';
import { MANIFEST_FILE } from './manifest.js';

// The writer against the Avro specification's encodings (zig-zag varints, length-prefixed strings, blocked
// arrays); pyiceberg and DuckDB read whole manifests in test/iceberg-avro.test.ts.

function encoded(write: (e: AvroEncoder) => void): number[] {
  const e = new AvroEncoder();
  write(e);
  return [...e.bytes()];
}

const RECORD: AvroRecord = {
  type: 'record',
  name: 'r',
  fields: [
    { name: 'n', type: 'long' },
    { name: 's', type: ['null', 'string'] },
    { name: 'xs', type: { type: 'array', items: 'int' } },
    { name: 'ok', type: 'boolean' },
    { name: 'd', type: 'double' },
    { name: 'b', type: 'bytes' },
  ],
};

describe('Avro binary encoding', () => {
  it('writes longs as zig-zag varints, as the specification tabulates', () => {
    // The specification's examples: 0 → 00, -1 → 01, 1 → 02, -2 → 03, 2 → 04, -64 → 7f, 64 → 80 01.
    expect(encoded((e) => [0, -1, 1, -2, 2, -64].forEach((n) => e.long(n)))).toEqual([0, 1, 2, 3, 4, 0x7f]);
    expect(encoded((e) => e.long(64))).toEqual([0x80, 0x01]);
    // 2^63 - 1 zig-zags to 2^64 - 2: seven bits at a time, 0x7e then eight times 0x7f, then the last bit.
    expect(encoded((e) => e.long(2n ** 63n - 1n))).toEqual([0xfe, ...new Array<number>(8).fill(0xff), 0x01]);
  });

  it('writes a string as its UTF-8 length then its bytes, and a union as the branch index then the value', () => {
    const e = new AvroEncoder();
    encodeValue(e, ['null', 'string'], 'é');
    expect([...e.bytes()]).toEqual([2, 4, 0xc3, 0xa9]);
    e.reset();
    encodeValue(e, ['null', 'string'], null);
    expect([...e.bytes()]).toEqual([0]);
  });

  it('refuses a value of the wrong type, naming where it is', () => {
    expect(() => encodeValue(new AvroEncoder(), RECORD, { n: 'x' })).toThrow('$.n should be an integer');
  });

  it('reads back what it wrote, with 64-bit values exact, in a container and from a deflate block', () => {
    const records = [
      { n: 2n ** 62n + 1n, s: 'a', xs: [1, -2, 300], ok: true, d: 0.1, b: new Uint8Array([0, 255]) },
      { n: -5n, s: null, xs: [], ok: false, d: -0, b: new Uint8Array([]) },
    ];
    const bytes = avroContainer(RECORD, records, { 'format-version': '2' });
    const read = readAvroContainer(bytes);
    expect(read.metadata['format-version']).toBe('2');
    expect(JSON.parse(read.metadata['avro.schema'] ?? '')).toEqual(RECORD);
    expect(read.records).toEqual(records);

    // The same records in a deflate block, as Iceberg's Java and Python writers write manifest lists by default.
    const block = new AvroEncoder();
    records.forEach((r) => encodeValue(block, RECORD, r));
    const deflated = deflateRawSync(block.bytes());
    const sync = new Uint8Array(16).fill(7);
    const file = new AvroEncoder();
    file.raw(new Uint8Array([0x4f, 0x62, 0x6a, 0x01]));
    file.long(2);
    file.string('avro.schema');
    file.string(JSON.stringify(RECORD));
    file.string('avro.codec');
    file.string('deflate');
    file.long(0);
    file.raw(sync);
    file.long(records.length);
    file.long(deflated.length);
    file.raw(deflated);
    file.raw(sync);
    expect(readAvroContainer(file.bytes()).records).toEqual(records);
  });

  it('gives the manifest list schema the field ids of the Iceberg specification', () => {
    const ids = MANIFEST_FILE.fields.map((f) => [f.name, f['field-id']]);
    expect(ids).toContainEqual(['manifest_path', 500]);
    expect(ids).toContainEqual(['content', 517]);
    expect(ids).toContainEqual(['added_rows_count', 512]);
  });
});
