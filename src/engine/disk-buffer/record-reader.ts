/**
 * Reads what a RecordWriter wrote, in the same order. Every read checks its bounds and throws a RecordFormatError
 * past the end or on a reference to nothing: a record whose checksum holds but whose contents do not (a bug, a
 * format this version does not know) is counted as corrupt by the caller, never half-delivered.
 *
 * @example
 * const r = new RecordReader(payload, 1); const name = r.string(); const value = r.float64();
 */
export class RecordReader {
  private readonly view: DataView;
  private readonly strings: string[] = [];
  private readonly objects: unknown[] = [];

  constructor(
    private readonly data: Buffer,
    private at: number,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.data.length - this.at;
  }

  get offset(): number {
    return this.at;
  }

  byte(): number {
    this.need(1);
    return this.data[this.at++] as number;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new RecordFormatError(`a number longer than 8 bytes at byte ${this.at}`);
  }

  float64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  /** Whether the next `bytes.length` bytes equal `bytes`; moves past them if so. */
  skipIfEqual(bytes: Buffer): boolean {
    if (this.remaining < bytes.length) return false;
    if (this.data.compare(bytes, 0, bytes.length, this.at, this.at + bytes.length) !== 0) return false;
    this.at += bytes.length;
    return true;
  }

  /** Moves `count` bytes on, returning where they start. */
  skip(count: number): number {
    this.need(count);
    const at = this.at;
    this.at += count;
    return at;
  }

  /** Bit `bit` of the mask at `offset`. */
  bit(offset: number, bit: number): boolean {
    return (((this.data[offset + (bit >>> 3)] as number) >>> (bit & 7)) & 1) === 1;
  }

  /** A string written whole, not interned: its UTF-8 length, then its bytes. */
  text(): string {
    const bytes = this.varint();
    const start = this.skip(bytes);
    return this.data.toString('utf8', start, start + bytes);
  }

  string(): string {
    const head = this.varint();
    if ((head & 1) === 0) return this.ref(this.strings, head / 2, 'string');
    const bytes = (head - 1) / 2;
    this.need(bytes);
    const start = this.at;
    this.at += bytes;
    const value = this.data.toString('utf8', start, this.at);
    this.strings.push(value);
    return value;
  }

  /**
   * An object by reference (see RecordWriter.seen): the object read before, or, when the record holds a new one,
   * `read(count)` makes it from the entries that follow and it is remembered.
   */
  object<T>(read: (count: number) => T): T {
    const head = this.varint();
    if ((head & 1) === 0) return this.ref(this.objects, head / 2, 'object') as T;
    // Its index is taken before its entries are read, as the writer gave it.
    const index = this.objects.length;
    this.objects.push(undefined);
    const value = read((head - 1) / 2);
    this.objects[index] = value;
    return value;
  }

  private ref<T>(table: readonly T[], index: number, what: string): T {
    if (index >= table.length) {
      throw new RecordFormatError(`a reference to ${what} ${index} of ${table.length} at byte ${this.at}`);
    }
    return table[index] as T;
  }

  private need(count: number): void {
    if (this.at + count > this.data.length) {
      throw new RecordFormatError(
        `the record ends at byte ${this.data.length}; ${count} more bytes expected at byte ${this.at}`,
      );
    }
  }
}

/** A record whose checksum holds but whose contents this version cannot read. */
export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
}
