import { describe, expect, it } from 'vitest';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { chunkRecords, mergeChunks } from './chunks.js';
import { kafkaSinkConfig } from './config.js';
import { BATCH_OVERHEAD, encodeBatch, RECORD_OVERHEAD } from './encode.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const batch = summaryBatch(fixture, { node: 'n1' });
const options = kafkaSinkConfig.parse({ brokers: ['k:9092'], topic: 'all', topic_per_type: { pod: 'pods' } });
const { records } = encodeBatch(batch, options);

describe('produce request splitting', () => {
  it('keeps each request under the limit and every message once, in order per topic', () => {
    const limit = 10_000;
    const chunks = chunkRecords(records, limit);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      let bytes = BATCH_OVERHEAD;
      for (const { messages } of chunk.topicMessages) {
        for (const m of messages)
          bytes += Buffer.byteLength(m.value) + Buffer.byteLength(m.key ?? '') + RECORD_OVERHEAD;
      }
      expect(bytes).toBe(chunk.bytes);
      expect(bytes).toBeLessThanOrEqual(limit);
    }
    for (const topic of ['all', 'pods']) {
      const sent = chunks.flatMap((c) =>
        c.topicMessages.filter((t) => t.topic === topic).flatMap((t) => t.messages),
      );
      expect(sent.map((m) => m.value)).toEqual(records.filter((r) => r.topic === topic).map((r) => r.value));
    }
    expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(records.length);
  });

  it('one request when everything fits; merging pieces gives back their messages in order', () => {
    const whole = chunkRecords(records, 10_000_000);
    expect(whole).toHaveLength(1);
    const merged = mergeChunks(chunkRecords(records, 10_000));
    expect(merged.records).toBe(records.length);
    for (const topic of ['all', 'pods']) {
      const fromMerged = merged.topicMessages.find((t) => t.topic === topic)?.messages.map((m) => m.value);
      const fromWhole = whole[0]?.topicMessages.find((t) => t.topic === topic)?.messages.map((m) => m.value);
      expect(fromMerged).toEqual(fromWhole);
    }
  });
});
