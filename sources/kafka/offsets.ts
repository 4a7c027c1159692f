/** The message at `offset` is settled once its cycle of `cluster` is delivered, or at once without a cycle. */
interface Read {
  readonly offset: number;
  readonly cluster: string | undefined;
  readonly cycle: number | undefined;
  settled: boolean;
}

/** What to commit: the offset of the next message to read, as Kafka counts it. */
export interface Commit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Which offsets may be committed: a message is settled once what came from it is delivered (the mark of its cycle,
 * see SourceContext.delivered), or at once when nothing came from it (a bad message, a part delivered twice). Per
 * partition the commit point is the first message not yet settled, so a restart reads again every message whose
 * cycle the sinks have not finished: whole cycles, never half of one, are read again (at least once).
 *
 * @example
 * book.read('t', 0, 41, { cluster: undefined, cycle: 7 }); book.delivered(undefined, 7); book.commits() // [{ t, 0, '42' }]
 */
export class OffsetBook {
  private readonly partitions = new Map<
    string,
    { topic: string; partition: number; reads: Read[]; next: number }
  >();

  read(
    topic: string,
    partition: number,
    offset: number,
    of?: { cluster: string | undefined; cycle: number },
  ): void {
    const key = topic + '\u0000' + String(partition);
    let entry = this.partitions.get(key);
    if (entry === undefined) {
      entry = { topic, partition, reads: [], next: -1 };
      this.partitions.set(key, entry);
    }
    entry.reads.push({
      offset,
      cluster: of?.cluster,
      cycle: of?.cycle,
      settled: of === undefined,
    });
  }

  /** Settles every message of `cluster` up to `cycle`: the sinks are done with that cycle and all before it. */
  delivered(cluster: string | undefined, cycle: number): void {
    for (const entry of this.partitions.values()) {
      for (const read of entry.reads) {
        if (!read.settled && read.cluster === cluster && (read.cycle as number) <= cycle) read.settled = true;
      }
    }
  }

  /** The partitions whose commit point moved since the last call, with the offset to commit. */
  commits(): Commit[] {
    const out: Commit[] = [];
    for (const entry of this.partitions.values()) {
      let done = 0;
      while (done < entry.reads.length && (entry.reads[done] as Read).settled) done++;
      if (done === 0) continue;
      const next = (entry.reads[done - 1] as Read).offset + 1;
      entry.reads.splice(0, done);
      if (next <= entry.next) continue;
      entry.next = next;
      out.push({ topic: entry.topic, partition: entry.partition, offset: String(next) });
    }
    return out;
  }

  /** Forgets the partitions this process no longer holds (after a rebalance): their new owner reads them again. */
  keepOnly(assignment: Readonly<Record<string, readonly number[]>>): void {
    for (const [key, entry] of this.partitions) {
      if (!(assignment[entry.topic] ?? []).includes(entry.partition)) this.partitions.delete(key);
    }
  }
}
