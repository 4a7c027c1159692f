import type { Telemetry } from '../component/telemetry.js';

/**
 * The counters that mean data did not reach a sink, each labelled by `sink` (and `reason` where there are several),
 * with the counter of the sets in those batches where there is one. A new kind of loss (dead letters, say) is one
 * more line here.
 */
export const LOSS_COUNTERS: readonly { batches: string; sets?: string; outcome: string }[] = [
  { batches: 'heapstream_sink_failed_batches_total', outcome: 'failed' },
  {
    batches: 'heapstream_sink_dropped_batches_total',
    sets: 'heapstream_sink_dropped_sets_total',
    outcome: 'dropped',
  },
];

/** Exit code of a `run --cycles N` that lost data: distinct from 1 (a bad config, usage, or a failed pipeline). */
export const EXIT_DATA_LOST = 3;

export interface Loss {
  readonly sink: string;
  readonly outcome: string;
  readonly reason: string | undefined;
  readonly batches: number;
  readonly sets: number | undefined;
}

/** What every sink lost in this run, by outcome and reason, read from the pipeline's own counters. */
export function dataLoss(telemetry: Telemetry): Loss[] {
  const losses: Loss[] = [];
  for (const sample of telemetry.snapshot()) {
    const counter = LOSS_COUNTERS.find((c) => c.batches === sample.name);
    if (counter === undefined || sample.value === 0) continue;
    losses.push({
      sink: sample.labels.sink ?? '?',
      outcome: counter.outcome,
      reason: sample.labels.reason,
      batches: sample.value,
      sets: counter.sets === undefined ? undefined : telemetry.value(counter.sets, sample.labels),
    });
  }
  return losses.sort((a, b) => a.sink.localeCompare(b.sink));
}

/**
 * One line for people: `data was lost: sink lake: 3 batches failed; sink out: 2 batches (40 sets) dropped
 * (shutdown)`.
 */
export function describeLoss(losses: readonly Loss[]): string {
  const parts = losses.map((l) => {
    // A disk buffer's damaged records are batches whose sets are unknown: no "(0 sets)" for them.
    const sets = l.sets === undefined || l.sets === 0 ? '' : ` (${l.sets} sets)`;
    const reason = l.reason === undefined ? '' : ` (${l.reason})`;
    return `sink ${l.sink}: ${l.batches} batch${l.batches === 1 ? '' : 'es'}${sets} ${l.outcome}${reason}`;
  });
  return `heapstream: data was lost: ${parts.join('; ')}`;
}
