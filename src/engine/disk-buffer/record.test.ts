import { describe, expect, it } from 'vitest';
import { encodeRecord, frameRecord, HEADER_BYTES, recordAt, scanRecords, stampRecord } from './record.js';

const payloads = [
  '{"kind":"batch","cycle":1}',
  '{"kind":"batch","cycle":2,"node":"ä"}',
  '{"kind":"cycle_end"}',
];

function segment(): { data: Buffer; offsets: number[] } {
  const records = payloads.map((text, i) => encodeRecord(i + 1, 1000 + i, Buffer.from(text)));
  const offsets: number[] = [];
  let offset = 0;
  for (const record of records) {
    offsets.push(offset);
    offset += record.length;
  }
  return { data: Buffer.concat(records), offsets };
}

describe('records', () => {
  it('read back what was written: sequence, time, payload', () => {
    const record = encodeRecord(42, 1733450000123.5, Buffer.from('{"a":1}'));
    expect(record.length).toBe(HEADER_BYTES + 7);
    expect(recordAt(record, 0)).toEqual({ offset: 0, payloadBytes: 7, seq: 42, writtenAt: 1733450000123.5 });
    expect(record.subarray(HEADER_BYTES).toString()).toBe('{"a":1}');
  });

  it('scan a segment into its records, in order, with nothing damaged', () => {
    const { data, offsets } = segment();
    const scan = scanRecords(data);
    expect(scan.damaged).toEqual([]);
    expect(scan.records.map((r) => [r.seq, r.offset])).toEqual([
      [1, offsets[0]],
      [2, offsets[1]],
      [3, offsets[2]],
    ]);
  });

  it('report a torn tail (every length a write can stop at) and keep the records before it', () => {
    const { data, offsets } = segment();
    const lastStart = offsets[2] as number;
    for (let cut = lastStart + 1; cut < data.length; cut++) {
      const scan = scanRecords(data.subarray(0, cut));
      expect(scan.records.map((r) => r.seq)).toEqual([1, 2]);
      expect(scan.damaged).toEqual([{ offset: lastStart, bytes: cut - lastStart }]);
    }
  });

  it('skip a record with any one byte flipped and resync on the next', () => {
    const { data, offsets } = segment();
    const start = offsets[1] as number;
    const end = offsets[2] as number;
    for (let at = start; at < end; at++) {
      const damaged = Buffer.from(data);
      damaged[at] = (damaged[at] as number) ^ 0x5a;
      const scan = scanRecords(damaged);
      expect(scan.records.map((r) => r.seq)).toEqual([1, 3]);
      expect(scan.damaged).toEqual([{ offset: start, bytes: end - start }]);
    }
  });

  it('treat zeros (a file extended by a crash) as one damaged range', () => {
    const { data, offsets } = segment();
    const withZeros = Buffer.concat([data.subarray(0, offsets[2]), Buffer.alloc(4096)]);
    const scan = scanRecords(withZeros);
    expect(scan.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(scan.damaged).toEqual([{ offset: offsets[2], bytes: 4096 }]);
  });

  it('reject a header whose length points past the data', () => {
    const record = encodeRecord(1, 0, Buffer.from('{}'));
    record.writeUInt32LE(0xffffffff, 8);
    expect(recordAt(record, 0)).toBeUndefined();
  });
});

describe('frameRecord', () => {
  it('makes a record that checks out once stamped, the same bytes encodeRecord makes', () => {
    const payload = Buffer.from('{"kind":"cycle_end","cycle":3}');
    const framed = frameRecord(1733450000123.5, payload);
    expect(recordAt(framed, 0)).toBeUndefined();
    stampRecord(framed, 9);
    expect(framed).toEqual(encodeRecord(9, 1733450000123.5, payload));
    expect(recordAt(framed, 0)?.seq).toBe(9);
  });

  it('stamps sequence numbers past 32 bits whole', () => {
    const payload = Buffer.from('x');
    for (const seq of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      const framed = frameRecord(1, payload);
      stampRecord(framed, seq);
      expect(framed).toEqual(encodeRecord(seq, 1, payload));
      expect(recordAt(framed, 0)?.seq).toBe(seq);
    }
  });
});
