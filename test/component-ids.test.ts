import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBuiltinRegistry } from '../src/builtins.js';
import { defineProcessor } from '../src/component/component.js';
import { createLogger } from '../src/component/logger.js';
import { mapBatches, reportBatchErrors } from '../src/component/operators.js';
import type { Telemetry } from '../src/component/telemetry.js';
import { parsePipelineConfig } from '../src/config/index.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';

// A processor that fails on every batch, so that it counts and logs under its id.
const alwaysFails = defineProcessor({
  type: 'always_fails',
  description: 'Fails on every batch (tests).',
  config: z.strictObject({}),
  create: (_config, ctx) =>
    mapBatches(() => {
      throw new Error('boom');
    }, reportBatchErrors(ctx)),
});

/** `metric{label="value"}` for every series that has the label, e.g. `heapstream_rate_skipped_total{processor="rate"}`. */
function seriesBy(telemetry: Telemetry, label: string): Set<string> {
  const found = new Set<string>();
  for (const sample of telemetry.snapshot()) {
    const value = sample.labels[label];
    if (value !== undefined) found.add(`${sample.name}{${label}="${value}"}`);
  }
  return found;
}

// Component ids are what dashboards and alerts select on: they must not depend on where a component sits.
describe('component ids in metrics and logs, over a real pipeline', () => {
  let cluster: SimulatedCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startSimulatedCluster({ nodes: 2, podsPerNode: 2, port: 0, firstAddress: '127.0.6.1' });
    dir = mkdtempSync(join(tmpdir(), 'heapstream-ids-'));
  });
  afterAll(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(source: string[], processors: string[]) {
    const registry = createBuiltinRegistry().register(alwaysFails);
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n'))
          if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const yaml = [
      'resolution: 1s',
      'source:',
      '  type: kubelet_summary',
      ...source,
      '  scheme: http',
      '  discovery:',
      '    static:',
      ...cluster.nodes.map((n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`),
      'processors:',
      ...processors,
      'sinks:',
      `  lake: { type: file, path: ${JSON.stringify(join(dir, String(Math.random())))}, format: jsonl }`,
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'test.yaml', registry, {});
    const logger = createLogger({ level: 'warn', destination });
    const pipeline = createPipeline(config, { registry, logger, cycles: 2 });
    await pipeline.run();
    return { telemetry: pipeline.telemetry, lines };
  }

  it('inserting a processor above others does not change their label values', async () => {
    const before = await run([], ['  - type: rate', '  - type: aggregate']);
    const after = await run(
      [],
      [
        '  - type: filter',
        '    exclude: { namespaces: [kube-system] }',
        '  - type: rate',
        '  - type: aggregate',
      ],
    );
    const kept = seriesBy(before.telemetry, 'processor');
    expect(kept).toContain('heapstream_rate_skipped_total{processor="rate"}');
    expect(kept).toContain('heapstream_aggregate_late_batches_total{processor="aggregate"}');
    // Every series of the two processors is still there under the same value; the new one adds its own only.
    const added = [...seriesBy(after.telemetry, 'processor')].filter((s) => !kept.has(s));
    expect([...kept].filter((s) => !seriesBy(after.telemetry, 'processor').has(s))).toEqual([]);
    expect(added).toEqual(['heapstream_processor_errors_total{processor="filter"}']);
    // The source, unnamed, is known by its type.
    expect(
      after.telemetry.value('heapstream_scrapes_total', { source: 'kubelet_summary', result: 'ok' }),
    ).toBe(4);
  });

  it('the file sink and its runner count under the same sink value: its key', async () => {
    const { telemetry } = await run([], ['  []']);
    const sinkSeries = seriesBy(telemetry, 'sink');
    expect(sinkSeries).toContain('heapstream_file_sink_files_total{sink="lake"}');
    expect(sinkSeries).toContain('heapstream_file_sink_values_omitted_total{sink="lake"}');
    expect(sinkSeries).toContain('heapstream_sink_batches_sent_total{sink="lake"}');
    expect(new Set([...sinkSeries].map((s) => s.slice(s.indexOf('{'))))).toEqual(new Set(['{sink="lake"}']));
    expect(telemetry.value('heapstream_sink_batches_sent_total', { sink: 'lake' })).toBe(4);
  });

  it('a processor’s and the source’s `name:` show in their metrics and log lines', async () => {
    const { telemetry, lines } = await run(
      ['  name: cluster_a'],
      [
        '  - type: always_fails',
        '    name: flaky_step',
        '  - type: rate',
        '  - type: rate',
        '    name: rate_again',
      ],
    );
    expect(telemetry.value('heapstream_processor_errors_total', { processor: 'flaky_step' })).toBe(4);
    expect(seriesBy(telemetry, 'processor')).toEqual(
      new Set([
        'heapstream_processor_errors_total{processor="flaky_step"}',
        'heapstream_processor_errors_total{processor="rate"}',
        'heapstream_processor_errors_total{processor="rate_again"}',
        'heapstream_rate_skipped_total{processor="rate"}',
        'heapstream_rate_skipped_total{processor="rate_again"}',
      ]),
    );
    expect(telemetry.value('heapstream_scrapes_total', { source: 'cluster_a', result: 'ok' })).toBe(4);
    const failed = lines.filter((l) => l.processor === 'flaky_step');
    expect(failed).toHaveLength(4);
    expect(failed[0]).toMatchObject({ level: 50, msg: 'processor flaky_step: batch passed on unprocessed' });
    expect(lines.filter((l) => l.processor !== 'flaky_step')).toEqual([]);
  });
});
