/**
 * Which records of a buffer are done with, in sequence order: records are taken in increasing sequence numbers
 * (numbered when offered, or found on disk at start-up) and may finish out of order (`max_in_flight` > 1, or a
 * sink done with a record before it is written), but the acknowledged position only moves past a record once every
 * record before it is done too, so a restart never skips one that was still being delivered.
 *
 * @example
 * const acks = new AckTracker(0); acks.add(1); acks.add(2); acks.done(2); acks.acked; // 0
 */
export class AckTracker {
  /** Records not yet passed by `acked`, in order; `head` is the first one still counted. */
  private pending: number[] = [];
  private head = 0;
  private readonly finished = new Set<number>();
  /** Taken and not yet done, for isOpen in constant time. */
  private readonly opened = new Set<number>();
  private position: number;

  constructor(acked: number) {
    this.position = acked;
  }

  /** Every record up to this sequence number is done. */
  get acked(): number {
    return this.position;
  }

  /** Records taken and not yet done. */
  get open(): number {
    return this.opened.size;
  }

  /** The oldest record not yet done, if any. */
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

  /** A record is taken (sequence numbers increase from call to call). */
  add(seq: number): void {
    if (this.head === this.pending.length) {
      // Nothing open: the position may move up to just before it (gaps are records lost before a restart).
      this.pending = [];
      this.head = 0;
      this.position = Math.max(this.position, seq - 1);
    }
    this.pending.push(seq);
    this.opened.add(seq);
  }

  /**
   * A record is done with: 'moved' when the acknowledged position moved past it (and maybe others), 'held' when a
   * record before it is still open, undefined when it was not open (done already, dropped, or never taken).
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
