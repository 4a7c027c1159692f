/**
 * Which stored records are done with, in sequence order: records are stored in increasing sequence numbers and
 * may finish out of order (`max_in_flight` > 1), but the acknowledged position only moves past a record once
 * every record before it is done too, so a restart never skips one that was still being written.
 *
 * @example
 * const acks = new AckTracker(0); acks.stored(1); acks.stored(2); acks.done(2); acks.acked; // 0
 */
export class AckTracker {
  /** Stored records not yet passed by `acked`, in order; `head` is the first one still counted. */
  private pending: number[] = [];
  private head = 0;
  private readonly finished = new Set<number>();
  /** Stored and not yet done, for isOpen in constant time. */
  private readonly opened = new Set<number>();
  private position: number;

  constructor(acked: number) {
    this.position = acked;
  }

  /** Every record up to this sequence number is done. */
  get acked(): number {
    return this.position;
  }

  /** Records stored and not yet done. */
  get open(): number {
    return this.opened.size;
  }

  /** The oldest stored record not yet done, if any. */
  get oldestOpen(): number | undefined {
    for (let i = this.head; i < this.pending.length; i++) {
      const seq = this.pending[i] as number;
      if (!this.finished.has(seq)) return seq;
    }
    return undefined;
  }

  isOpen(seq: number): boolean {
    return this.opened.has(seq);
  }

  /** A record is on disk (sequence numbers increase from call to call). */
  stored(seq: number): void {
    if (this.head === this.pending.length) {
      // Nothing open: the position may move up to just before it (gaps are records whose write failed).
      this.pending = [];
      this.head = 0;
      this.position = Math.max(this.position, seq - 1);
    }
    this.pending.push(seq);
    this.opened.add(seq);
  }

  /**
   * A record is done with: 'moved' when the acknowledged position moved past it (and maybe others), 'held' when a
   * record before it is still open, undefined when it was not open (done already, dropped, or never stored).
   */
  done(seq: number): 'moved' | 'held' | undefined {
    if (seq <= this.position || !this.opened.delete(seq)) return undefined;
    this.finished.add(seq);
    const before = this.position;
    while (this.head < this.pending.length && this.finished.has(this.pending[this.head] as number)) {
      const next = this.pending[this.head] as number;
      this.finished.delete(next);
      this.position = next;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return this.position !== before ? 'moved' : 'held';
  }
}
