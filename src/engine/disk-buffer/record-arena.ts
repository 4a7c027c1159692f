/**
 * Memory for records waiting to be written, cut from 1 MiB chunks that are used again once their records are
 * written. Why: a Buffer of its own per record is memory outside V8's heap, and V8 answers a few MB of it with an
 * extra garbage collection ("external memory pressure"); a cycle's records at 300 nodes are about 9 MB, which cost
 * two collections a cycle, each copying every batch still alive. Chunks used again are no new outside memory.
 *
 * The records framed since the last take() live in the chunks take() returns; once the caller has written them (or
 * given them up) it hands those chunks back with recycle(), and nothing may read those records after that.
 *
 * @example
 * const bytes = arena.alloc(1_000); …; const chunks = arena.take(); await write(pending); arena.recycle(chunks);
 */
export class RecordArena {
  private chunk: Buffer | undefined;
  private used = 0;
  /** Chunks records were cut from since the last take(), the current one included. */
  private taken: Buffer[] = [];
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly chunkBytes = 1024 * 1024,
    /** Chunks kept for use again at most: the rest are left to the garbage collector. */
    private readonly maxSpare = 8,
  ) {}

  /** `bytes` of memory for a record; one larger than a quarter of a chunk gets a Buffer of its own. */
  alloc(bytes: number): Buffer {
    if (bytes > this.chunkBytes / 4) return Buffer.allocUnsafe(bytes);
    if (this.chunk === undefined || this.used + bytes > this.chunk.length) {
      this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
      this.used = 0;
      this.taken.push(this.chunk);
    }
    const at = this.used;
    this.used += bytes;
    return this.chunk.subarray(at, at + bytes);
  }

  /** The chunks of every record cut since the last take(); later records go to other chunks. */
  take(): Buffer[] {
    const chunks = this.taken;
    this.taken = [];
    this.chunk = undefined;
    this.used = 0;
    return chunks;
  }

  /** Chunks from take() whose records are written or given up: their memory is used again. */
  recycle(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) if (this.spare.length < this.maxSpare) this.spare.push(chunk);
  }
}
