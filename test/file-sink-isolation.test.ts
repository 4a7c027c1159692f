import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { mergeMap, of } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { defineSource } from '../src/component/component.js';
import { silentLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import type { MetricSet, NodeBatch } from '../src/model/types.js';
import { cycleEnd } from '../src/testing/fixtures.js';
import { SetValues } from '../src/model/set-values.js';

const BAD_SET = 37;

/** One node's batch of 100 pod sets; one has a numeric label (as a cAdvisor payload's spec.labels may give). */
function hundredSets(cycle: number): NodeBatch {
  const sets = Array.from({ length: 100 }, (_, i) => ({
    type: 'pod',
    key: `namespace:ns/pod:p${i}`,
    labels: { type: 'pod', namespace_name: 'ns', pod_name: i === BAD_SET ? 37 : `p${i}` },
    values: SetValues.from({ 'cpu/usage': cycle * 1000 + i }),
    labeled: [],
    scrapeTime: 0,
    startTime: 0,
  })) as unknown as MetricSet[];
  return { kind: 'batch', scope: 'node', node: 'node-a', cycle, timestamp: Date.now(), sets };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// Issue: the Parquet sink completed that cycle's files with 0 rows, losing the good sets, and exited 0.
describe('a set the file sink cannot store, in a running pipeline', () => {
  it('is dead-lettered, and the Parquet files hold the other 99 sets of every cycle', async () => {
    const replay = defineSource({
      type: 'replay',
      description: 'One node, 100 sets a cycle.',
      config: z.strictObject({}),
      create: (_config, ctx) =>
        ctx.ticks.pipe(mergeMap((tick) => of(hundredSets(tick.cycle), cycleEnd(tick.cycle, 1)))),
    });
    const registry = createBuiltinRegistry().register(replay);
    dir = await mkdtemp(join(tmpdir(), 'heapstream-file-isolation-'));
    const yaml = [
      'resolution: 1s',
      `data_dir: ${join(dir, 'data')}`,
      'source: { type: replay }',
      'sinks:',
      `  lake: { type: file, path: ${join(dir, 'lake')}, buffer: { max_batches: 1 }, shutdown_timeout: 1s }`,
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'test.yaml', registry, {});
    const pipeline = createPipeline(config, { registry, logger: silentLogger(), cycles: 3 });
    await pipeline.run();

    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const rows = (
        await duck.runAndReadAll(
          `SELECT pod, count(*) AS n FROM read_parquet('${join(dir, 'lake', '**', '*.parquet')}') GROUP BY pod`,
        )
      ).getRowObjectsJS();
      expect(rows).toHaveLength(99);
      expect(rows.every((r) => r.n === 3n)).toBe(true);
    } finally {
      duck.closeSync();
    }
    const t = pipeline.telemetry;
    expect(t.value('heapstream_sink_sets_sent_total', { sink: 'lake' })).toBe(3 * 99);
    expect(t.value('heapstream_sink_dead_lettered_sets_total', { sink: 'lake' })).toBe(3);
    const lines = (await readFile(join(dir, 'data', 'dead-letter', 'lake.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { error: string; set: MetricSet });
    expect(lines.map((l) => l.set.key)).toEqual(Array(3).fill(`namespace:ns/pod:p${BAD_SET}`));
    expect(lines[0]?.error).toMatch(/label "pod_name" is a number \(37\), not a string/);
  });
});
