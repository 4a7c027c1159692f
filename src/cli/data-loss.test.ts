import { describe, expect, it } from 'vitest';
import { Telemetry } from '../component/telemetry.js';
import { dataLoss, describeLoss } from './data-loss.js';

describe('the data-loss line', () => {
  it('names a disk buffer’s drops with the memory buffer’s, and leaves out sets it does not know', () => {
    const telemetry = new Telemetry();
    telemetry
      .counter('heapstream_sink_dropped_batches_total', { sink: 'lake', reason: 'drop_newest' })
      .inc(2);
    telemetry.counter('heapstream_sink_dropped_sets_total', { sink: 'lake', reason: 'drop_newest' }).inc(80);
    // A damaged record from before a restart: a batch whose sets are unknown.
    telemetry.counter('heapstream_sink_dropped_batches_total', { sink: 'lake', reason: 'corrupt' }).inc(1);
    expect(describeLoss(dataLoss(telemetry))).toBe(
      'heapstream: data was lost: sink lake: 2 batches (80 sets) dropped (drop_newest); sink lake: 1 batch dropped (corrupt)',
    );
  });
});
