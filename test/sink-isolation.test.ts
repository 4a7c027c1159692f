import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeMap, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { defineSink, defineSource } from '../src/component/component.js';
import { silentLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import type { MetricSet, NodeBatch } from '../src/model/types.js';
import { collectingSink } from '../src/testing/collecting-sink.js';
import { cycleEnd } from '../src/testing/fixtures.js';
import { SetValues } from '../src/model/set-values.js';

const BAD_SET = 37;

/** One node's batch of 100 pod sets, one of which its sink cannot encode. */
function hundredSets(cycle: number): NodeBatch {
  const sets: MetricSet[] = Array.from({ length: 100 }, (_, i) => ({
    type: 'pod',
    key: `namespace:ns/pod:${i === BAD_SET ? 'bad' : `p${i}`}`,
    labels: { type: 'pod', namespace_name: 'ns', pod_name: `p${i}` },
    values: SetValues.from({ 'cpu/usage': cycle * 1000 + i }),
    labeled: [],
    scrapeTime: cycle * 1000,
    startTime: 0,
  }));
  return { kind: 'batch', scope: 'node', node: 'node-a', cycle, timestamp: cycle * 1000, sets };
}

// Issue: a set the InfluxDB sink could not encode threw a TypeError; with max_attempts 0 it was retried forever,
// the queue filled, `when_full: block` skipped every cycle and the other sink starved too.
describe('a set one sink cannot encode, in a running pipeline', () => {
  it('is dead-lettered while the other 99 sets and every other sink get every cycle', async () => {
    const delivered: string[] = [];
    const encoding = defineSink({
      type: 'encoding',
      description:
        'Throws TypeError for a set it cannot encode, as the InfluxDB sink did on a numeric label.',
      config: z.strictObject({}),
      create: () => ({
        write(batch) {
          if (batch.sets.some((s) => s.key.endsWith('/pod:bad'))) {
            throw new TypeError('text.slice is not a function');
          }
          for (const s of batch.sets) delivered.push(`${batch.cycle} ${s.key}`);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      }),
    });
    const replay = defineSource({
      type: 'replay',
      description: 'One node, 100 sets a cycle.',
      config: z.strictObject({}),
      create: (_config, ctx) =>
        ctx.ticks.pipe(mergeMap((tick) => of(hundredSets(tick.cycle), cycleEnd(tick.cycle, 1)))),
    });
    const { definition, collected } = collectingSink();
    const registry = createBuiltinRegistry().register(replay, encoding, definition);
    const dataDir = await mkdtemp(join(tmpdir(), 'heapstream-isolation-'));
    const yaml = [
      'resolution: 1s',
      `data_dir: ${dataDir}`,
      'source: { type: replay }',
      'sinks:',
      // As shipped: max_attempts 0 (retry forever) and when_full block; a small queue shows a stall at once.
      '  tsdb: { type: encoding, buffer: { max_batches: 1 }, shutdown_timeout: 1s }',
      '  out: { type: collect }',
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'test.yaml', registry, {});
    const pipeline = createPipeline(config, { registry, logger: silentLogger(), cycles: 4 });
    await pipeline.run();

    expect(pipeline.telemetry.total('heapstream_cycles_skipped_total')).toBe(0);
    expect(collected.batches.map((b) => b.sets.length)).toEqual([100, 100, 100, 100]);
    const cycles = collected.batches.map((b) => b.cycle);
    expect(delivered).toHaveLength(4 * 99);
    expect(delivered.some((d) => d.endsWith('/pod:bad'))).toBe(false);
    const t = pipeline.telemetry;
    expect(t.value('heapstream_sink_sets_sent_total', { sink: 'tsdb' })).toBe(4 * 99);
    expect(t.value('heapstream_sink_isolated_sets_total', { sink: 'tsdb', class: 'unexpected' })).toBe(4);
    expect(t.value('heapstream_sink_dead_lettered_sets_total', { sink: 'tsdb' })).toBe(4);
    expect(t.value('heapstream_sink_retries_total', { sink: 'tsdb' })).toBe(0);
    const lines = (await readFile(join(dataDir, 'dead-letter', 'tsdb.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { sink: string; node: string; cycle: number; error: string; set: MetricSet },
      );
    expect(lines.map((l) => [l.sink, l.node, l.cycle, l.set.key])).toEqual(
      cycles.map((cycle) => ['tsdb', 'node-a', cycle, 'namespace:ns/pod:bad']),
    );
    expect(lines[0]?.error).toBe('TypeError: text.slice is not a function');
  });
});
