/**
 * Writes a record's payload into one growing scratch buffer: unsigned varints, float64s and strings interned per
 * record. A string's first use writes it whole and gives it the next index; each later use writes that index. The
 * reader (RecordReader) builds the same table as it reads, so a record needs no table up front and stays readable
 * on its own: nothing refers to another record, so a damaged one costs only itself.
 *
 * One writer is reused record after record (a record is encoded in one synchronous call): the scratch buffer
 * grows to the largest record and stays, so encoding allocates only the record it returns.
 *
 * @example
 * const w = new RecordWriter(); w.start(); w.string('pod'); w.float64(1.5); const bytes = Buffer.from(w.written());
 */
export class RecordWriter {
  private buffer = Buffer.allocUnsafe(256 * 1024);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  private at = 0;
  /**
   * This record's strings and their indexes. Per record, not kept across records: a node batch has about 200
   * distinct strings, a table that stays in the cache; one kept across records grew to a cycle's strings (200,000
   * at 1,000 nodes), missed the cache at every lookup and was emptied and refilled each cycle.
   */
  private readonly strings = new Map<string, number>();
  private readonly objects = new Map<object, number>();

  /** Starts a record: empties the buffer and the record's interning tables. */
  start(): void {
    this.at = 0;
    this.strings.clear();
    this.objects.clear();
  }

  /** Bytes written so far in this record. */
  get length(): number {
    return this.at;
  }

  /** The record so far, as a view of the scratch buffer: valid until the next start(). */
  written(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.at++] = value;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buffer.set(data, this.at);
    this.at += data.length;
  }

  /** An unsigned integer below 2^53 in 7-bit groups, least significant first (LEB128). */
  varint(value: number): void {
    this.ensure(8);
    this.at = varintAt(this.buffer, this.at, value);
  }

  float64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
  }

  /** A string by reference: `index << 1` when already written in this record, else `length << 1 | 1` and its UTF-8. */
  string(value: string): void {
    const index = this.strings.get(value);
    if (index !== undefined) {
      this.varint(index * 2);
      return;
    }
    this.strings.set(value, this.strings.size);
    this.literal(value);
  }

  /**
   * An object by reference: returns true (and writes `index << 1`) when this object was written before in this
   * record; else writes nothing and returns false, and the caller writes the object (led by `count << 1 | 1`).
   */
  seen(object: object): boolean {
    const index = this.objects.get(object);
    if (index !== undefined) {
      this.varint(index * 2);
      return true;
    }
    this.objects.set(object, this.objects.size);
    return false;
  }

  /**
   * The start of an object not seen before, whose entries are counted as they are written: reserves its header
   * (`count << 1 | 1`) and returns where it is, for objectEnd. One pass over the object instead of two.
   */
  objectBegin(): number {
    this.ensure(1);
    return this.at++;
  }

  /** Writes the header reserved at `offset`, moving the entries when it takes more than its one byte. */
  objectEnd(offset: number, count: number): void {
    const header = count * 2 + 1;
    if (header < 0x80) {
      this.buffer[offset] = header;
      return;
    }
    // 64 entries or more (rare): the entries move up by the header's extra bytes, then the header is written.
    let extra = 0;
    for (let v = header; v >= 0x80; v = Math.floor(v / 128)) extra++;
    const end = this.at;
    this.ensure(extra);
    this.buffer.copyWithin(offset + 1 + extra, offset + 1, end);
    varintAt(this.buffer, offset, header);
    this.at = end + extra;
  }

  /** Reserves `count` bytes, zeroed (a bit mask filled in later); returns their offset. */
  reserve(count: number): number {
    this.ensure(count);
    const at = this.at;
    this.buffer.fill(0, at, at + count);
    this.at += count;
    return at;
  }

  /** Sets bit `bit` of the mask reserved at `offset`. */
  setBit(offset: number, bit: number): void {
    (this.buffer[offset + (bit >>> 3)] as number) |= 1 << (bit & 7);
  }

  private literal(value: string): void {
    const n = value.length;
    // Most strings here are ASCII (names, ids, label values): copied by hand as their length is written, a short
    // string costs no call into C++. At the first other character the write starts over with Buffer's encoder.
    const start = this.at;
    this.varint(n * 2 + 1);
    this.ensure(n);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.at = start;
        this.utf8Literal(value);
        return;
      }
      buffer[at++] = code;
    }
    this.at = at;
  }

  private utf8Literal(value: string): void {
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes * 2 + 1);
    this.ensure(bytes);
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  private ensure(count: number): void {
    if (this.at + count <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.at + count) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}

/** Writes `value` as a LEB128 varint at `at` (room for it checked by the caller); returns where it ends. */
function varintAt(buffer: Buffer, at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 0x80) {
    buffer[i++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buffer[i++] = v;
  return i;
}
