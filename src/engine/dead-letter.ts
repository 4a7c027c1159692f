import { appendFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MetricBatch, MetricSet } from '../model/types.js';

/** A dead-letter file stops growing here: past it, sets are counted as dropped, so a bad sink never fills a disk. */
export const DEAD_LETTER_MAX_BYTES = 64 * 1024 * 1024;

/** What became of sets handed to the dead-letter file. */
export interface DeadLetterOutcome {
  readonly written: number;
  /** Sets that would have taken the file past its size bound. */
  readonly full: number;
  /** Sets lost because the file could not be written (read-only volume, permissions). */
  readonly failed: number;
  readonly error?: unknown;
}

/** Sets a sink refused with the same error, as the runner set them aside. */
export interface DeadLetterEntry {
  readonly batch: MetricBatch;
  readonly sets: readonly MetricSet[];
  readonly error: string;
}

/**
 * `<data_dir>/dead-letter/<sink>.jsonl`: the sets a sink refused, one JSON line each (time, sink, node, cycle,
 * error, the set), kept for someone to look at or replay by hand; heapstream never reads them back. Appends are
 * chained, so lines keep their order, and each is tried once: a file that cannot be written costs the sets, never
 * a retry or a wait in the runner.
 *
 * @example
 * const file = new DeadLetterFile('/var/lib/heapstream', 'lake');
 * const outcome = await file.append([{ batch, sets: [bad], error: 'TypeError: …' }], Date.now());
 */
export class DeadLetterFile {
  readonly path: string;
  /** Bytes in the file plus those queued for it; unknown until the first append looks at the file. */
  private size: number | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly sink: string,
    private readonly maxBytes = DEAD_LETTER_MAX_BYTES,
  ) {
    this.path = join(dataDir, 'dead-letter', `${sink}.jsonl`);
  }

  /** Appends one line per set, in order after earlier appends. */
  append(entries: readonly DeadLetterEntry[], now: number): Promise<DeadLetterOutcome> {
    const run = this.chain.then(() => this.write(entries, now));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every append so far is done. */
  async settled(): Promise<void> {
    await this.chain;
  }

  private async write(entries: readonly DeadLetterEntry[], now: number): Promise<DeadLetterOutcome> {
    let total = 0;
    for (const entry of entries) total += entry.sets.length;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      this.size ??= await sizeOf(this.path);
    } catch (error) {
      return { written: 0, full: 0, failed: total, error };
    }
    const time = new Date(now).toISOString();
    let text = '';
    let textBytes = 0;
    let written = 0;
    let full = 0;
    for (const entry of entries) {
      for (const set of entry.sets) {
        const line = this.line(time, entry, set);
        const bytes = Buffer.byteLength(line);
        if ((this.size ?? 0) + textBytes + bytes > this.maxBytes) {
          full++;
          continue;
        }
        text += line;
        textBytes += bytes;
        written++;
      }
    }
    if (text === '') return { written: 0, full, failed: 0 };
    try {
      await appendFile(this.path, text, { mode: 0o600 });
      this.size = (this.size ?? 0) + textBytes;
      return { written, full, failed: 0 };
    } catch (error) {
      // Part of the text may have reached the file: look again next time rather than trust the count.
      this.size = undefined;
      return { written: 0, full, failed: written, error };
    }
  }

  private line(time: string, entry: DeadLetterEntry, set: MetricSet): string {
    const { batch, error } = entry;
    const node = batch.scope === 'node' ? batch.node : null;
    let setJson: string;
    try {
      setJson = JSON.stringify(set);
    } catch (err) {
      // A set hostile enough to break its sink may break JSON too (a BigInt, a cycle): keep what names it.
      setJson = JSON.stringify({
        type: String(set.type),
        key: String(set.key),
        unserializable: err instanceof Error ? err.message : String(err),
      });
    }
    const head = JSON.stringify({ time, sink: this.sink, node, cycle: batch.cycle, error });
    return `${head.slice(0, -1)},"set":${setJson}}\n`;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return 0;
    throw err;
  }
}
