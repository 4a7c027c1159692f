import { describe, expect, it } from 'vitest';
import { cycleEnd, summaryBatch } from '../testing/fixtures.js';
import { cycleEndMessage, readBatchMessage, type BatchPartMessage } from './batch-message.js';
import { readSetJson, SetJsonWriter } from './set-json.js';
import type { CycleEnd, MetricSet } from './types.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);

/** What the writer keeps of a set: everything but the start time (not in the format) and sub-ms times. */
function written(set: MetricSet): MetricSet {
  return { ...set, scrapeTime: Math.floor(set.scrapeTime), startTime: 0 };
}

describe('set JSON reader', () => {
  it('reads back every set of a real payload as the writer wrote it', () => {
    const batch = summaryBatch(fixture, { node: 'n1', cycle: 3, timestamp: Date.UTC(2026, 2, 1) });
    const writer = new SetJsonWriter();
    const time = writer.isoTime(batch.timestamp);
    expect(batch.sets.length).toBeGreaterThan(10);
    for (const set of batch.sets) {
      expect(readSetJson(JSON.parse(writer.set(set, time)), time)).toEqual(written(set));
    }
  });

  it('gives a set without a sample time (written with the batch time) scrapeTime 0 again', () => {
    const set = summaryBatch(fixture, { node: 'n1', cycle: 1 }).sets[0] as MetricSet;
    const writer = new SetJsonWriter();
    const time = writer.isoTime(30_000);
    const back = readSetJson(JSON.parse(writer.set({ ...set, scrapeTime: 0 }, time)), time);
    expect(back.scrapeTime).toBe(0);
  });

  it('says what is wrong with a set that is not one', () => {
    const time = '2026-01-01T00:00:00.000Z';
    const good = { time, type: 'pod', key: 'k', labels: {}, values: {}, labeled: [] };
    expect(() => readSetJson({ ...good, type: 'pods' }, time)).toThrow(/no known type/);
    expect(() => readSetJson({ ...good, labels: { a: 1 } }, time)).toThrow(
      /labels are not an object of strings/,
    );
    expect(() => readSetJson({ ...good, time: 'soon' }, time)).toThrow(/no valid time/);
    expect(readSetJson({ ...good, values: { a: null, b: 2 } }, time).values).toEqual({ b: 2 });
  });
});

describe('batch format messages', () => {
  it('reads a cycle end back as the mark it was written from, with its cluster and nodes', () => {
    const mark: CycleEnd = {
      ...cycleEnd(7, 3, { failures: [{ node: 'n3', reason: 'timeout', message: 'no answer in 5s' }] }),
      cluster: 'east',
      nodes: ['n1', 'n2', 'n3'],
      durationMs: 812,
    };
    const text = cycleEndMessage(mark, new Date(mark.timestamp).toISOString());
    expect(JSON.parse(text)).toMatchObject({ v: 1, kind: 'cycle_end', cycle: 7, nodes_answered: 2 });
    expect(readBatchMessage(text)).toEqual({ kind: 'cycle_end', mark });
  });

  it("reads a sharded collector's mark back with the partitions it covered, and refuses a bad shard", () => {
    const mark: CycleEnd = { ...cycleEnd(7, 1), nodes: ['n1'], shard: { partitions: [2, 5], of: 12 } };
    const text = cycleEndMessage(mark, new Date(mark.timestamp).toISOString());
    expect(JSON.parse(text)).toMatchObject({ shard: { partitions: [2, 5], of: 12 } });
    expect(readBatchMessage(text)).toEqual({ kind: 'cycle_end', mark });
    const bad = text.replace('"of":12', '"of":4');
    expect(() => readBatchMessage(bad)).toThrow(/shard.partitions/);
  });

  it('reads a message of the first batch format (no v, no kind) as a batch', () => {
    const text =
      '{"time":"2026-11-28T10:00:00.000Z","scope":"node","node":"n1","cycle":42,"part":0,"parts":1,"sets":[]}';
    const message = readBatchMessage(text) as BatchPartMessage;
    expect(message).toMatchObject({ kind: 'batch', scope: 'node', node: 'n1', cycle: 42, part: 0, parts: 1 });
    expect(message.time).toBe(Date.UTC(2026, 10, 28, 10));
  });

  it('refuses a newer version, an unknown kind, and parts that do not add up, saying which', () => {
    const head = '"time":"2026-11-28T10:00:00.000Z","scope":"node","node":"n1","cycle":1,"sets":[]';
    expect(() => readBatchMessage(`{"v":2,${head},"part":0,"parts":1}`)).toThrow(/format version 2/);
    expect(() => readBatchMessage(`{"kind":"x",${head},"part":0,"parts":1}`)).toThrow(/unknown kind "x"/);
    expect(() => readBatchMessage(`{${head},"part":1,"parts":1}`)).toThrow(/part/);
    expect(() => readBatchMessage('[1]')).toThrow(/not a JSON object/);
    expect(() => readBatchMessage('{"v":1,')).toThrow(SyntaxError);
  });
});
