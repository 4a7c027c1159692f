import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CycleEnd, MetricBatch, MetricSet } from '../../src/model/types.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { stdoutSinkConfig } from './config.js';
import { stdoutSink } from './stdout-sink.js';
import { SetValues } from '../../src/model/set-values.js';

const node: MetricSet = {
  type: 'node',
  key: 'node:n1',
  labels: { type: 'node', nodename: 'n1' },
  values: SetValues.from({ 'cpu/usage_rate': 812, 'memory/working_set': 2 * 1024 ** 3 }),
  labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 4096 }],
  scrapeTime: Date.UTC(2026, 10, 28, 10, 0, 5, 123),
  startTime: 0,
};
const pod: MetricSet = {
  ...node,
  type: 'pod',
  key: 'namespace:ns/pod:p',
  labeled: [],
  values: SetValues.from({ 'cpu/usage': 3e9 }),
};
const batch: MetricBatch = {
  kind: 'batch',
  scope: 'node',
  node: 'n1',
  cycle: 7,
  timestamp: Date.UTC(2026, 10, 28, 10, 0, 5),
  sets: [node, pod],
};
const mark: CycleEnd = {
  kind: 'cycle_end',
  cycle: 7,
  timestamp: batch.timestamp,
  nodesExpected: 2,
  nodesAnswered: 1,
  failures: [{ node: 'n2', reason: 'timeout', message: 'node n2: did not answer within 5000 ms' }],
  durationMs: 21,
};
// Sinks only read: a sink that changes what it is given fails with a TypeError.
deepFreeze(batch);
deepFreeze(mark);

function collect() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

describe('stdout sink', () => {
  it('jsonl writes one parseable object per set with time, type, key, labels, values and labeled', async () => {
    const c = collect();
    const sink = stdoutSink(stdoutSinkConfig.parse({ format: 'jsonl' }), c.out);
    await sink.write(batch);
    const lines = c.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(first).toEqual({
      time: '2026-11-28T10:00:05.123Z',
      type: 'node',
      key: 'node:n1',
      labels: { type: 'node', nodename: 'n1' },
      values: SetValues.from({ 'cpu/usage_rate': 812, 'memory/working_set': 2147483648 }),
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 4096 }],
    });
  });

  it('table prints one summary per cycle at its end, with failures and the busiest sets', async () => {
    const c = collect();
    const sink = stdoutSink(stdoutSinkConfig.parse({ format: 'table', max_rows: 5 }), c.out);
    await sink.write(batch);
    expect(c.text()).toBe('');
    await sink.cycleEnd?.(mark);
    const text = c.text();
    expect(text).toContain('nodes 1/2  sets 2  values 4');
    expect(text).toContain('node 1 · pod 1');
    expect(text).toContain('✗ n2 (timeout)');
    expect(text).toMatch(/node\s+node:n1\s+812m\s+2\.0Gi/);
    expect(text).toMatch(/pod\s+namespace:ns\/pod:p\s+3\.0s total/);
  });

  it('ends quietly when the reader closes the pipe (EPIPE): the rest is discarded, not failed', async () => {
    let writes = 0;
    const closedPipe = new Writable({
      write(_chunk, _encoding, done) {
        writes++;
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    closedPipe.on('error', () => undefined); // the CLI listens for it and stops the run
    const sink = stdoutSink(stdoutSinkConfig.parse({ format: 'jsonl' }), closedPipe);
    await sink.write(batch);
    await expect(sink.write(batch)).resolves.toBeUndefined();
    expect(writes).toBe(1);
  });
});
