import type { Writable } from 'node:stream';
import type { Sink } from '../../src/component/component.js';
import { PermanentError } from '../../src/component/errors.js';
import { SetJsonWriter } from '../../src/model/set-json.js';
import type { CycleEnd, MetricBatch, MetricSet } from '../../src/model/types.js';
import type { StdoutSinkConfig } from './config.js';
import { formatCycleTable } from './table.js';

/**
 * Writes to a stream (stdout by default), honouring backpressure so a slow terminal or pipe holds writes back.
 * A reader that closes the pipe (`heapstream run | head`) ends the output, as it ends any Unix tool's: what
 * follows is discarded without an error (the CLI stops the run on the same EPIPE).
 */
export function stdoutSink(config: StdoutSinkConfig, out: Writable = process.stdout): Sink {
  // Table rows are collected per cycle and printed at its end; a cycle's batches all precede its mark.
  const cycleSets = new Map<number, MetricSet[]>();
  const output = { readerGone: false };
  const json = new SetJsonWriter();
  const writeText = (text: string) => (output.readerGone ? Promise.resolve() : writeTo(out, text, output));
  return {
    async write(batch: MetricBatch) {
      if (config.format === 'jsonl') {
        await writeText(json.lines(batch));
        return;
      }
      let sets = cycleSets.get(batch.cycle);
      if (sets === undefined) cycleSets.set(batch.cycle, (sets = []));
      for (const set of batch.sets) sets.push(set);
    },
    async cycleEnd(mark: CycleEnd) {
      if (config.format !== 'table') return;
      const sets = cycleSets.get(mark.cycle) ?? [];
      cycleSets.delete(mark.cycle);
      await writeText(formatCycleTable(mark, sets, config.max_rows));
    },
    close() {
      cycleSets.clear();
      return Promise.resolve();
    },
  };
}

function writeTo(out: Writable, text: string, output: { readerGone: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed || out.writableEnded) {
      reject(new PermanentError('output stream is closed'));
      return;
    }
    const ok = out.write(text, (err) => {
      if (err === undefined || err === null) return;
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
        output.readerGone = true;
        resolve();
        return;
      }
      reject(new PermanentError(`writing to output failed: ${err.message}`, { cause: err }));
    });
    if (ok) resolve();
    // A stream that fails while full never drains: its error settles the write instead.
    else out.once('drain', () => resolve());
  });
}
