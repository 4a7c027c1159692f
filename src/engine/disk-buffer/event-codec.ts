import type { PipelineEvent } from '../../model/types.js';
import { SetValues } from '../../model/set-values.js';
import { owned } from '../../model/owned.js';
import { decodeBatch, encodeBatch, type ForeignColumns } from './batch-codec.js';
import { RecordFormatError, RecordReader } from './record-reader.js';
import { RecordWriter } from './record-writer.js';

/**
 * How an event is stored in a record's payload. Its first byte says which format:
 *
 * | first byte | format                                                                                       |
 * | ---------- | -------------------------------------------------------------------------------------------- |
 * | `{` (0x7B) | 1: the event as UTF-8 JSON (heapstream before the binary records); still read                |
 * | 0x02       | 2: binary; the next byte is the kind: 1 a batch (batch-codec.ts), 2 a cycle mark (UTF-8 JSON) |
 *
 * Any other first byte (a format from a newer heapstream, after a rollback) is refused with a RecordFormatError
 * naming it; the buffer counts the record as corrupt (`heapstream_buffer_corrupt_records_total`) and logs it with
 * its file and offset.
 *
 * Why binary: JSON cost most of the buffer's CPU, a node batch of 30 pods being about 100 KB of text to write and,
 * when read back, to parse. A set's values are float64 slots already; written as a presence mask and the float64s,
 * with strings and labels written once per record, a record is about half the bytes and several times faster
 * both ways. Why not `v8.serialize`: a buffer outlives the process that wrote it, and V8's format is only promised
 * to read older versions, never newer ones. Float64s carry what JSON could not (±Infinity comes back as itself).
 * Labels objects repeated within a record come back as one shared object; across records they are not shared, so
 * a sink's per-series caches miss on batches read back from the files.
 *
 * @example
 * const bytes = encodeEvent(batch); const back = decodeEvent(bytes);
 */
export const FORMAT_BINARY = 2;
const JSON_FIRST_BYTE = 0x7b;
const KIND_BATCH = 1;
const KIND_MARK = 2;

const writer = new RecordWriter();

/** The payload of an event, in a buffer of its own; `foreign` writes it as another catalogue would (tests). */
export function encodeEvent(event: PipelineEvent, foreign?: ForeignColumns): Buffer {
  return Buffer.from(encodeEventInPlace(event, foreign));
}

/**
 * The payload of an event as a view of a scratch buffer, valid until the next encode: for a caller that copies it
 * at once (into a record), sparing a copy.
 */
export function encodeEventInPlace(event: PipelineEvent, foreign?: ForeignColumns): Buffer {
  writer.start();
  writer.byte(FORMAT_BINARY);
  if (event.kind === 'batch') {
    writer.byte(KIND_BATCH);
    encodeBatch(writer, event, foreign);
  } else {
    writer.byte(KIND_MARK);
    writer.bytes(Buffer.from(JSON.stringify(event)));
  }
  return writer.written();
}

/** The event a payload holds; throws when it is not one (the caller counts it as a corrupt record). */
export function decodeEvent(payload: Buffer): PipelineEvent {
  const format = payload[0];
  if (format === JSON_FIRST_BYTE) return decodeJsonEvent(payload);
  if (format !== FORMAT_BINARY) {
    throw new RecordFormatError(
      `record format ${format ?? 'none'} is not one this heapstream reads (1: JSON, 2: binary); written by a newer version?`,
    );
  }
  const reader = new RecordReader(payload, 1);
  const kind = reader.byte();
  if (kind === KIND_BATCH) {
    const batch = decodeBatch(reader);
    if (reader.remaining !== 0) {
      throw new RecordFormatError(`${reader.remaining} bytes left after the batch at byte ${reader.offset}`);
    }
    return batch;
  }
  if (kind === KIND_MARK) {
    const mark: unknown = JSON.parse(payload.toString('utf8', 2));
    if (!isEvent(mark) || mark.kind !== 'cycle_end')
      throw new RecordFormatError('the payload is not a cycle end');
    return mark;
  }
  throw new RecordFormatError(`unknown event kind ${kind} in a binary record`);
}

/** Format 1: JSON, as records were written before the binary format. */
function decodeJsonEvent(payload: Buffer): PipelineEvent {
  const value: unknown = JSON.parse(payload.toString('utf8'));
  if (!isEvent(value)) throw new Error('the payload is not a batch or a cycle end');
  if (value.kind === 'batch') {
    for (const set of value.sets) {
      // JSON gave a plain record (SetValues.toJSON wrote it): back into the catalogue's layout.
      const stored = set.values as unknown as Readonly<Record<string, unknown>>;
      const values = new SetValues();
      for (const name in stored) {
        const v = stored[name];
        if (typeof v === 'number') values.set(name, v);
      }
      owned(set).values = values;
    }
  }
  return value;
}

function isEvent(value: unknown): value is PipelineEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, cycle } = value as { kind?: unknown; cycle?: unknown };
  if (typeof cycle !== 'number') return false;
  if (kind === 'cycle_end') return true;
  return kind === 'batch' && Array.isArray((value as { sets?: unknown }).sets);
}
