import { describe, expect, it } from 'vitest';
import type { Sink } from '../component/component.js';
import { writeAllPieces, type PieceWriter } from '../component/pieces.js';
import { owned } from '../model/owned.js';
import type { MetricBatch, MetricSet } from '../model/types.js';
import { collectingSink } from './collecting-sink.js';
import { testContext } from './context.js';
import { nodeBatch } from './fixtures.js';
import { piecewiseWrites } from './piecewise-writes.js';
import { podSet } from './sets.js';

const batch = () => nodeBatch('n1', 1, [podSet('ns', 'p', 'n1', { values: { 'cpu/usage': 1 } })]);

/** A piecewise sink whose encoder adds a value to the set it was given: what a sink must never do. */
function sinkThatWritesInto(): Sink {
  const pieces: PieceWriter<string> = {
    encode(b: MetricBatch) {
      owned(b.sets[0] as MetricSet).values.set('custom/encoded', 1);
      return { pieces: ['x'] };
    },
    send: () => Promise.resolve(),
  };
  return { pieces, write: (b) => writeAllPieces(pieces, b), close: () => Promise.resolve() };
}

describe('sink helpers hand sinks read-only batches', () => {
  it('piecewiseWrites deep-freezes the batch, so a sink that changes it fails', async () => {
    const write = piecewiseWrites(sinkThatWritesInto());
    // The encoder runs as the write is planned, synchronously or not: either way the write fails.
    await expect(Promise.resolve().then(() => write(batch()))).rejects.toThrow(TypeError);
  });

  it('collectingSink freezes what it keeps, so a change after the hand-off fails', async () => {
    const { definition, collected } = collectingSink();
    const sink = definition.create({}, testContext());
    const given = batch();
    await sink.write(given);
    expect(collected.batches[0]).toBe(given);
    expect(() => {
      owned(given.sets[0] as MetricSet).values.set('custom/late', 1);
    }).toThrow(TypeError);
  });
});
