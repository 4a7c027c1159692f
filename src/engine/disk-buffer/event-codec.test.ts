import { describe, expect, it } from 'vitest';
import type { MetricBatch } from '../../model/types.js';
import { decodeEvent, encodeEvent } from './event-codec.js';
import { SetValues } from '../../model/set-values.js';

const batch: MetricBatch = {
  kind: 'batch',
  scope: 'node',
  node: 'node-ü',
  cycle: 3,
  timestamp: 45_000,
  sets: [
    {
      type: 'node',
      key: 'node:node-ü',
      labels: { type: 'node', nodename: 'node-ü' },
      values: SetValues.from({ 'cpu/usage': 123456789012, 'memory/usage': 0.25 }),
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 17 }],
      scrapeTime: 44_999.5,
      startTime: 1,
    },
  ],
};

describe('event codec', () => {
  it('round-trips a batch and a cycle mark', () => {
    expect(decodeEvent(encodeEvent(batch))).toEqual(batch);
    const mark = {
      kind: 'cycle_end' as const,
      cycle: 3,
      timestamp: 45_000,
      nodesExpected: 2,
      nodesAnswered: 1,
      failures: [{ node: 'b', reason: 'timeout' as const, message: 'timed out' }],
      durationMs: 12,
    };
    expect(decodeEvent(encodeEvent(mark))).toEqual(mark);
  });

  it('drops a value JSON cannot carry (Infinity comes back as null) rather than deliver null', () => {
    const values = SetValues.from({ 'cpu/usage': Infinity, 'memory/usage': 1 });
    const odd = { ...batch, sets: [{ ...batch.sets[0], values }] };
    const back = decodeEvent(encodeEvent(odd as MetricBatch));
    expect(back.kind === 'batch' ? back.sets[0]?.values : undefined).toEqual({ 'memory/usage': 1 });
  });

  it('refuses a payload that is not an event', () => {
    expect(() => decodeEvent(Buffer.from('{"kind":"batch"}'))).toThrow(/not a batch or a cycle end/);
    expect(() => decodeEvent(Buffer.from('{"kind":'))).toThrow(SyntaxError);
  });
});
