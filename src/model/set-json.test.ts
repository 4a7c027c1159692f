import { describe, expect, it } from 'vitest';
import { summaryBatch } from '../testing/fixtures.js';
import { SetJsonWriter } from './set-json.js';
import type { MetricBatch } from './types.js';
import { SetValues } from './set-values.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);

/** The stdout sink's lines as JSON.stringify wrote them before the encoder was shared. */
function stringifyLines(batch: MetricBatch): string {
  const batchTime = new Date(batch.timestamp).toISOString();
  let out = '';
  for (const set of batch.sets) {
    const time = set.scrapeTime > 0 ? new Date(set.scrapeTime).toISOString() : batchTime;
    const { type, key, labels, values, labeled } = set;
    out += JSON.stringify({ time, type, key, labels, values, labeled }) + '\n';
  }
  return out;
}

describe('set JSON writer', () => {
  it('formats sample times exactly as Date.toISOString, across minutes, days and fractions of a ms', () => {
    const writer = new SetJsonWriter();
    const start = Date.UTC(2026, 1, 28, 23, 58, 59, 990);
    for (let ms = start; ms < start + 130_000; ms += 7.25) {
      expect(writer.isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    for (const ms of [0, 1, 999.999, Date.UTC(1999, 11, 31, 23, 59, 59, 999), 253_402_300_800_000]) {
      expect(writer.isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('gives the same object as JSON.stringify for odd names and values', () => {
    const writer = new SetJsonWriter();
    const set = {
      type: 'pod' as const,
      key: 'namespace:a"b/pod:p',
      labels: { 'we\u0001ird': 'ü\n', type: 'pod' },
      values: SetValues.from({ 'cpu/usage': 1.5e-7, 'x"y': 12 }),
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 3 }],
      scrapeTime: Date.UTC(2026, 0, 1, 0, 0, 1, 5),
      startTime: 0,
    };
    for (let i = 0; i < 2; i++) {
      const json = writer.set(set, 'unused');
      expect(JSON.parse(json)).toEqual({
        time: '2026-01-01T00:00:01.005Z',
        type: 'pod',
        key: set.key,
        labels: set.labels,
        values: set.values,
        labeled: set.labeled,
      });
    }
  });

  it("counts the UTF-8 bytes of each set's text, with non-ASCII key, labels, names and labeled labels", () => {
    const writer = new SetJsonWriter();
    const labeledLabels = { resource_id: '日本語 😀', device: 'ü' };
    const sets = [
      {
        type: 'pod' as const,
        key: 'namespace:ü/pod:😀',
        labels: { nämé: 'wert\u2028', type: 'pod' },
        values: SetValues.from({ 'cpu/usage': 12, 'custom/größe': 0.5, 'custom/plain': 3 }),
        labeled: [
          { name: 'filesystem/usage', labels: labeledLabels, value: 3 },
          { name: 'volume/größe', labels: labeledLabels, value: 4 },
          { name: 'filesystem/usage', labels: { resource_id: '/' }, value: 5 },
        ],
        scrapeTime: 0,
        startTime: 0,
      },
      {
        type: 'node' as const,
        key: 'node:n1',
        labels: { nodename: 'n1' },
        values: SetValues.from({ 'memory/usage': 2 ** 40 }),
        labeled: [],
        scrapeTime: Date.UTC(2026, 0, 1),
        startTime: 0,
      },
    ];
    // Twice: the second time every piece comes from the writer's caches.
    for (let i = 0; i < 2; i++) {
      for (const set of sets) {
        const json = writer.set(set, '2026-01-01T00:00:00.000Z');
        expect(writer.lastBytes).toBe(Buffer.byteLength(json));
      }
    }
  });

  it('writes a real batch byte for byte as JSON.stringify does, one line per set', () => {
    const batch = summaryBatch(fixture, { node: 'n1' });
    const noSampleTime = { ...batch, sets: batch.sets.map((set) => ({ ...set, scrapeTime: 0 })) };
    const writer = new SetJsonWriter();
    for (const b of [batch, noSampleTime, batch]) expect(writer.lines(b)).toBe(stringifyLines(b));
  });
});
