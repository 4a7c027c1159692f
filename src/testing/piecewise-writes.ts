import type { Sink } from '../component/component.js';
import type { MetricBatch } from '../model/types.js';
import { PieceSender, type PieceProgress } from '../engine/piece-sender.js';
import { deepFreeze } from './deep-freeze.js';

/**
 * Writes to a piecewise sink (one with `pieces`) the way the sink runner does: batches written at the same time
 * share requests when the sink merges, and a batch written again after a failure resumes where it stopped (its
 * progress is kept per batch object, as the runner keeps it across its retries). For tests of a sink's pieces
 * without the runner's queue, timers and backoff. Each batch is deep-frozen before the sink sees it: sinks only
 * read, so one that changes its batch fails with a TypeError.
 *
 * @example
 * const write = piecewiseWrites(sink);
 * await expect(write(batch)).rejects.toThrow(RetryableError);
 * await write(batch); // sends only the pieces not yet accepted
 */
export function piecewiseWrites(sink: Sink): (batch: MetricBatch) => Promise<void> {
  if (sink.pieces === undefined) throw new TypeError('piecewiseWrites: the sink has no `pieces`');
  const sender = new PieceSender(sink.pieces);
  const progress = new Map<MetricBatch, PieceProgress<unknown>>();
  return (batch) => {
    deepFreeze(batch);
    let held = progress.get(batch);
    if (held === undefined) progress.set(batch, (held = sender.plan(batch)));
    return sender.write(held);
  };
}
