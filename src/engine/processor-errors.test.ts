import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { throwing } from '../../test/plugins/throwing.js';
import { defineProcessor, type ProcessorDefinition } from '../component/component.js';
import { mapBatches } from '../component/operators.js';
import type { ProcessorEntry } from '../config/index.js';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import {
  checkProcessorContract,
  cycleEnd,
  runProcessor,
  summaryBatch,
  testContext,
} from '../testing/index.js';
import { isolatedProcessor } from './processor-errors.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const events: PipelineEvent[] = [
  summaryBatch(fixture, { node: 'node-1', cycle: 1 }),
  summaryBatch(fixture, { node: 'node-2', cycle: 1 }),
  cycleEnd(1, 2),
  summaryBatch(fixture, { node: 'node-1', cycle: 2 }),
  summaryBatch(fixture, { node: 'node-2', cycle: 2 }),
  cycleEnd(2, 2),
  summaryBatch(fixture, { node: 'node-1', cycle: 3 }),
  cycleEnd(3, 1),
];
const fixtureSets = (events[0] as MetricBatch).sets;

function entry(def: ProcessorDefinition, config: unknown, onError: 'pass' | 'drop' = 'pass'): ProcessorEntry {
  return {
    type: def.type,
    id: def.type,
    path: 'processors[0]',
    config: def.config.parse(config),
    options: { on_error: onError },
  };
}

function batches(out: readonly PipelineEvent[]): MetricBatch[] {
  return out.filter((e): e is MetricBatch => e.kind === 'batch');
}

describe('a processor whose stream errors is isolated by the engine, as on_error says', () => {
  it('pass: the failing batches go on unprocessed, each failure is counted, the stream goes on', async () => {
    const ctx = testContext({ id: 'throws_on_cycle' });
    const op = isolatedProcessor(throwing, entry(throwing, { cycle: 2 }), ctx);
    const out = await runProcessor(op, {}, events);
    expect(out.map((e) => e.kind)).toEqual(events.map((e) => e.kind));
    // Cycle 1: the processor's state counts 1, 2 batches. Cycle 2 fails twice: both batches pass unprocessed
    // (all 39 sets), and each failure restarts the processor, so cycle 3 starts counting afresh.
    expect(batches(out).map((b) => [b.cycle, b.sets.length])).toEqual([
      [1, 1],
      [1, 2],
      [2, fixtureSets.length],
      [2, fixtureSets.length],
      [3, 1],
    ]);
    expect(fixtureSets.length).toBe(39);
    expect(batches(out)[2]).toBe(events[3]);
    expect(
      ctx.telemetry.value('heapstream_processor_errors_total', {
        processor: 'throws_on_cycle',
      }),
    ).toBe(2);
  });

  it('drop: the failing batches are dropped, cycle marks still go on', async () => {
    const ctx = testContext();
    const out = await runProcessor(
      isolatedProcessor(throwing, entry(throwing, { cycle: 2 }, 'drop'), ctx),
      {},
      events,
    );
    expect(out.map((e) => (e.kind === 'batch' ? `b${e.cycle}` : `end${e.cycle}`))).toEqual([
      'b1',
      'b1',
      'end1',
      'end2',
      'b3',
      'end3',
    ]);
    expect(ctx.telemetry.total('heapstream_processor_errors_total')).toBe(2);
  });

  it('logs each failure with the processor’s name and type, once a minute per distinct error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const fragile = defineProcessor({
      type: 'fragile',
      description: 'throws on node-2',
      config: z.strictObject({}),
      create: () => (source) =>
        source.pipe(
          mapBatches((b) => {
            if (b.scope === 'node' && b.node === 'node-2') throw new Error('node-2 is too much');
            return b;
          }),
        ),
    });
    const ctx = testContext({ id: 'fragile', logger });
    await runProcessor(isolatedProcessor(fragile, entry(fragile, {}), ctx), {}, events);
    expect(lines).toHaveLength(1); // the same error twice within a minute is logged once
    expect(lines[0]).toMatchObject({
      level: 50,
      node: 'node-2',
      cycle: 1,
      msg: 'processor fragile: fragile failed on a batch, which was passed on unprocessed; restarted',
    });
  });

  it('a processor that fails as it is subscribed loses no event', async () => {
    const broken = defineProcessor({
      type: 'broken',
      description: 'fails on subscribe',
      config: z.strictObject({}),
      create: () => () => {
        throw new Error('no state store');
      },
    });
    const ctx = testContext();
    const out = await runProcessor(isolatedProcessor(broken, entry(broken, {}), ctx), {}, events);
    expect(out).toEqual(events);
    expect(ctx.telemetry.total('heapstream_processor_errors_total')).toBe(events.length);
  });

  it('a processor whose create throws is a one-line config error', () => {
    const failing = defineProcessor({
      type: 'failing',
      description: 'cannot start',
      config: z.strictObject({}),
      create: () => {
        throw new Error('needs a license key\nand more');
      },
    });
    expect(() => isolatedProcessor(failing, entry(failing, {}), testContext({ id: 'failing' }))).toThrow(
      'processor failing: failing failed to start: needs a license key',
    );
  });

  it('keeps the processor contract', async () => {
    const op = isolatedProcessor(throwing, entry(throwing, { cycle: 2 }), testContext());
    expect((await checkProcessorContract(op, {}, events)).problems).toEqual([]);
  });
});
