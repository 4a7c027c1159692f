/**
 * Reads a JSON document from its bytes into plain objects that hold only the fields a decoder reads (its
 * "shape"), skipping the rest byte by byte. The decoder then walks the small tree exactly as it walks the whole
 * one `JSON.parse` builds: every field it reads has the same value in both, so it decodes, reports and fails
 * the same way. A field holding something other than its shape says (a string where an object is expected) is
 * read whole, as JSON.parse would, so the decoder's error names it the same way too.
 */
import { JsonBytesReader, KeyTable } from './json-bytes.js';

/** What a decoder reads at one place of a document. */
export type Shape = AnyShape | TimeShape | ObjectShape | ArrayShape;

/** Any value, read whole (scalars: numbers, names). */
export interface AnyShape {
  readonly kind: 'any';
}

/** A value that is usually a string repeated many times (a sample time): read with the reader's memo. */
export interface TimeShape {
  readonly kind: 'time';
}

/** An object of which only the fields in `fields` are kept. */
export interface ObjectShape {
  readonly kind: 'object';
  readonly keys: KeyTable;
  readonly shapes: readonly Shape[];
  /**
   * Every field undefined; each object read starts as a copy. All objects of one shape then share the template's
   * hidden class, which the template keeps alive: built key by key from `{}`, their classes died at each full GC
   * with the objects, and V8 deoptimized the decoder that had embedded them (see JsonBytesReader.reset).
   */
  readonly template: Readonly<Record<string, undefined>>;
}

/** An array whose elements have one shape. */
export interface ArrayShape {
  readonly kind: 'array';
  readonly element: Shape;
}

export const ANY: AnyShape = { kind: 'any' };
export const TIME: TimeShape = { kind: 'time' };

/**
 * The shape of an object whose fields `fields` are read, every other field skipped.
 *
 * @example
 * const CPU = objectShape({ time: TIME, usageCoreNanoSeconds: ANY });
 */
export function objectShape(fields: Readonly<Record<string, Shape>>): ObjectShape {
  const names = Object.keys(fields);
  const template: Record<string, undefined> = {};
  for (const name of names) template[name] = undefined;
  return { kind: 'object', keys: new KeyTable(names), shapes: names.map((name) => fields[name]!), template };
}

/** The shape of an array of `element`s. */
export function arrayOf(element: Shape): ArrayShape {
  return { kind: 'array', element };
}

/**
 * The document in `bytes`, pruned to `shape`. Throws JsonSyntaxError when the bytes are not valid JSON,
 * whatever part is invalid (skipped parts are validated too).
 *
 * @example
 * readPruned(Buffer.from('{"cpu":{"time":"t","x":[1]},"y":2}'), objectShape({ cpu: CPU })) // { cpu: { time: 't' } }
 */
export function readPruned(bytes: Uint8Array, shape: Shape): unknown {
  // One reader for good (see JsonBytesReader.reset); reading is synchronous, so no two payloads share it at once.
  const reader = SHARED_READER;
  reader.reset(bytes);
  try {
    const value = readShaped(reader, shape);
    reader.end();
    return value;
  } finally {
    reader.reset(NO_BYTES); // not keeping the payload alive
  }
}

const NO_BYTES = new Uint8Array(0);
const SHARED_READER = new JsonBytesReader(NO_BYTES);

function readShaped(reader: JsonBytesReader, shape: Shape): unknown {
  const c = reader.next();
  switch (shape.kind) {
    case 'object':
      return c === 0x7b /* { */ ? readObject(reader, shape) : reader.readValue();
    case 'array':
      return c === 0x5b /* [ */ ? readArray(reader, shape) : reader.readValue();
    case 'time':
      return c === 0x22 /* " */ ? reader.readMemoString() : reader.readValue();
    case 'any':
      // Numbers and strings first: the values of the fields a decoder reads nearly always are.
      if (c === 0x22 /* " */) return reader.readString();
      if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return reader.readNumber();
      return reader.readValue();
  }
}

function readObject(reader: JsonBytesReader, shape: ObjectShape): Record<string, unknown> {
  reader.pos++;
  const object: Record<string, unknown> = { ...shape.template };
  if (reader.emptyObject()) return object;
  const keys = shape.keys;
  const names = keys.names;
  const shapes = shape.shapes;
  do {
    const id = reader.readKey(keys);
    if (id < 0) {
      reader.skipValue();
    } else {
      // A repeated key replaces the earlier value, as in JSON.parse.
      object[names[id]!] = readShaped(reader, shapes[id]!);
    }
  } while (reader.more(0x7d /* } */));
  return object;
}

function readArray(reader: JsonBytesReader, shape: ArrayShape): unknown[] {
  reader.pos++;
  const array: unknown[] = [];
  if (reader.emptyArray()) return array;
  const element = shape.element;
  do array.push(readShaped(reader, element));
  while (reader.more(0x5d /* ] */));
  return array;
}
