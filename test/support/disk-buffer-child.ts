// A process for test/disk-buffer-crash.test.ts to kill: a sink runner with a disk buffer and a sink that appends
// each delivered batch's id to a file and flushes it to the disk before its write resolves. It makes batches with
// ids from START, writes each id to MADE once the batch is in the buffer, reports its buffer counters at start-up
// to STATS, and with COUNT set, stops after that many batches once everything is delivered.
import { openSync, fsyncSync, writeSync } from 'node:fs';
import { silentLogger } from '../../src/component/logger.js';
import type { Sink } from '../../src/component/component.js';
import { sinkRunnerOptionsSchema } from '../../src/config/sink-options.js';
import { SinkRunner } from '../../src/engine/sink-runner.js';
import { testContext } from '../../src/testing/context.js';
import type { MetricBatch } from '../../src/model/types.js';
import { SetValues } from '../../src/model/set-values.js';

const [dir, deliveredPath, madePath, statsPath, startText, countText] = process.argv.slice(2);
if (dir === undefined || deliveredPath === undefined || madePath === undefined || statsPath === undefined) {
  throw new Error('usage: disk-buffer-child DIR DELIVERED MADE STATS START [COUNT]');
}
const start = Number(startText);
const count = countText === undefined ? Infinity : Number(countText);

/** Appends a line and flushes it to the disk before returning. */
function appendLine(fd: number, line: string): void {
  writeSync(fd, `${line}\n`);
  fsyncSync(fd);
}

const delivered = openSync(deliveredPath, 'a');
const made = openSync(madePath, 'a');
const stats = openSync(statsPath, 'a');

const sink: Sink = {
  write: (batch: MetricBatch) => {
    appendLine(delivered, batch.scope === 'node' ? batch.node : 'cluster');
    return Promise.resolve();
  },
  close: () => Promise.resolve(),
};

const ctx = testContext({ logger: silentLogger() });
const options = sinkRunnerOptionsSchema.parse({
  buffer: { type: 'disk', path: dir, max_size: 64 * 1024 * 1024, sync: 'every_batch' },
});
const runner = new SinkRunner('crash', sink, options, ctx);

function batch(id: number): MetricBatch {
  return {
    kind: 'batch',
    scope: 'node',
    node: String(id),
    cycle: id,
    timestamp: id * 1000,
    sets: Array.from({ length: 1 + (id % 7) * 20 }, (_, i) => ({
      type: 'pod' as const,
      key: `namespace:default/pod:p${i}`,
      labels: { type: 'pod', pod_name: `p${i}` },
      values: SetValues.from({ 'cpu/usage': id + i }),
      labeled: [],
      scrapeTime: id,
      startTime: 0,
    })),
  };
}

runner.start();
await runner.buffered();
const counter = (name: string): number => ctx.telemetry.value(name, { sink: 'crash' });
appendLine(
  stats,
  JSON.stringify({
    corrupt: counter('heapstream_buffer_corrupt_records_total'),
    redelivered: counter('heapstream_buffer_records_redelivered_total'),
    replaying: counter('heapstream_buffer_records'),
  }),
);
process.stdout.write('ready\n');

for (let id = start; id < start + count; id++) {
  runner.accept(batch(id));
  await runner.buffered();
  appendLine(made, String(id));
}
await runner.close();
process.stdout.write('done\n');
