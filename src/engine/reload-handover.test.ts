import { EMPTY, concat, from, ignoreElements } from 'rxjs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineSink, defineSource, type Sink } from '../component/component.js';
import { silentLogger } from '../component/logger.js';
import { Registry } from '../component/registry.js';
import { parsePipelineConfig } from '../config/index.js';
import type { MetricBatch } from '../model/types.js';
import { testContext } from '../testing/context.js';
import { createPipeline } from './pipeline.js';
import {
  abandonHandOver,
  diffSinks,
  PipelineHandOver,
  PipelineSinks,
  runnersAfterReload,
} from './reload-handover.js';
import { SinkRunner } from './sink-runner.js';
import { SetValues } from '../model/set-values.js';

const registry = new Registry().register(
  defineSource({
    type: 'nothing',
    description: 'no events',
    config: z.strictObject({}),
    create: () => EMPTY,
  }),
  defineSink({
    type: 'keep',
    description: 'a sink with one key',
    config: z.strictObject({ to: z.string().default('here') }),
    create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
  }),
);

function config(sinks: string, file = '/etc/heapstream/p.yaml') {
  return parsePipelineConfig(`source: { type: nothing }\nsinks:\n${sinks}`, file, registry, {});
}

function batch(cycle: number): MetricBatch {
  const set = {
    type: 'node' as const,
    key: 'node:n1',
    labels: {},
    values: new SetValues(),
    labeled: [],
    scrapeTime: 1,
    startTime: 0,
  };
  return { kind: 'batch', scope: 'node', node: 'n1', cycle, timestamp: cycle, sets: [set] };
}

/** A sink whose writes never finish and which records what it got and whether it was closed. */
function stuckSink() {
  const got: number[] = [];
  let closed = 0;
  const sink: Sink = {
    write: (b) => (got.push(b.cycle), new Promise<void>(() => undefined)),
    close: () => (closed++, Promise.resolve()),
  };
  return { sink, got, closed: () => closed };
}

function runner(name: string, sink: Sink) {
  const ctx = testContext();
  return new SinkRunner(
    name,
    sink,
    config('  x: { type: keep, shutdown_timeout: 0s }').sinks[0]!.options,
    ctx,
  );
}

describe('diffSinks', () => {
  it('tells unchanged, changed, removed and added sinks apart, by name', () => {
    const old = config(
      [
        '  same: { type: keep }',
        '  keys: { type: keep }',
        '  runner: { type: keep }',
        '  gone: { type: keep }',
      ].join('\n'),
    );
    const next = config(
      [
        '  same: { type: keep }',
        '  keys: { type: keep, to: there }',
        '  runner: { type: keep, buffer: { when_full: drop_newest } }',
        '  new: { type: keep }',
      ].join('\n'),
    );
    expect(diffSinks(old, next)).toEqual({
      unchanged: ['same'],
      changed: ['keys', 'runner'],
      removed: ['gone'],
      added: ['new'],
    });
  });

  it('counts a sink as changed when the config directory changed (its relative paths then mean other files)', () => {
    const old = config('  same: { type: keep }', '/etc/a/p.yaml');
    const next = config('  same: { type: keep }', '/etc/b/p.yaml');
    expect(diffSinks(old, next).changed).toEqual(['same']);
  });
});

describe('PipelineSinks', () => {
  it('hands over unchanged runners whole, takes the changed ones’ queues, and closes only what it kept', async () => {
    const old = config('  same: { type: keep }\n  keys: { type: keep }');
    const next = config('  same: { type: keep }\n  keys: { type: keep, to: there }');
    const same = stuckSink();
    const keys = stuckSink();
    const runners = [runner('same', same.sink), runner('keys', keys.sink)];
    for (const r of runners) for (const cycle of [1, 2, 3]) r.accept(batch(cycle));
    const sinks = new PipelineSinks(old, runners);

    const kept = sinks.handOver(next);
    expect([...kept.keys()]).toEqual(['same']);
    expect(kept.get('same')).toBe(runners[0]);
    const queues = sinks.takeQueues(next);
    // Cycle 1 is being written by the old runner and stays with it; 2 and 3 were not started.
    expect([...queues.keys()]).toEqual(['keys']);
    expect(queues.get('keys')?.map((e) => (e.kind === 'batch' ? e.cycle : -1))).toEqual([2, 3]);
    expect(runners[0]?.queuedBatches).toBe(2);

    void sinks.closeRest();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(keys.closed()).toBe(1);
    expect(same.closed()).toBe(0);
    // Once the pipeline has ended nothing more is handed over.
    expect(sinks.handOver(next).size).toBe(0);
  });
});

describe('runnersAfterReload', () => {
  it('reuses a kept runner and feeds a new one what its predecessor held, before anything else', async () => {
    const next = config('  same: { type: keep }\n  keys: { type: keep, to: there }');
    const keptRunner = runner('same', stuckSink().sink);
    const written: number[] = [];
    const created = runnersAfterReload(
      next,
      { keptSinks: new Map([['same', keptRunner]]), handedQueues: new Map([['keys', [batch(2), batch(3)]]]) },
      (entry) =>
        runner(entry.name, {
          write: (b) => (written.push(b.cycle), Promise.resolve()),
          close: () => Promise.resolve(),
        }),
      silentLogger(),
    );
    expect(created[0]).toBe(keptRunner);
    created[1]?.accept(batch(4));
    await created[1]?.close();
    expect(written).toEqual([2, 3, 4]);
  });
});

describe('abandonHandOver', () => {
  it('closes the kept runners and counts what the changed sinks handed over as dropped (reload_failed)', async () => {
    const kept = stuckSink();
    const keptRunner = runner('same', kept.sink);
    const { telemetry } = testContext();
    abandonHandOver(
      { keptSinks: new Map([['same', keptRunner]]), handedQueues: new Map([['keys', [batch(2), batch(3)]]]) },
      telemetry,
      silentLogger(),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(kept.closed()).toBe(1);
    const labels = { sink: 'keys', reason: 'reload_failed' };
    expect(telemetry.value('heapstream_sink_dropped_batches_total', labels)).toBe(2);
    expect(telemetry.value('heapstream_sink_dropped_sets_total', labels)).toBe(2);
  });
});

describe('PipelineHandOver', () => {
  /** A source that keeps a resource (as the simulated cluster does) and emits three batches at once, then ends with the clock. */
  function handOverRegistry() {
    const disposed: string[] = [];
    const writes: string[] = [];
    const reg = new Registry().register(
      defineSource({
        type: 'three',
        description: 'three batches at once',
        config: z.strictObject({}),
        create: (_config, ctx) => {
          ctx.keep(
            'resource',
            () => 'r',
            (r) => void disposed.push(r),
          );
          return concat(from([batch(1), batch(2), batch(3)]), ctx.ticks.pipe(ignoreElements()));
        },
      }),
      defineSink({
        type: 'stuck',
        description: 'records writes, finishes none',
        config: z.strictObject({ to: z.string().default('here') }),
        create: (config) => ({
          write: (b) => (writes.push(`${config.to}:${b.cycle}`), new Promise<void>(() => undefined)),
          close: () => Promise.resolve(),
        }),
      }),
    );
    const parse = (sinks: string) =>
      parsePipelineConfig(`source: { type: three }\nsinks:\n${sinks}`, '/etc/heapstream/p.yaml', reg, {});
    return { reg, parse, disposed, writes };
  }

  it('gives the next pipeline the kept state, the next cycle, the unchanged runners and the changed ones’ queues', async () => {
    const { reg, parse, disposed, writes } = handOverRegistry();
    const sinkKeys =
      '  same: { type: stuck, shutdown_timeout: 0s }\n  keys: { type: stuck, shutdown_timeout: 0s';
    const old = createPipeline(parse(`${sinkKeys} }`), { registry: reg, logger: silentLogger() });
    void old.run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const nextConfig = parse(`${sinkKeys}, to: there }`);

    const handOver = new PipelineHandOver(old, nextConfig);
    old.stop();
    await old.scraped;
    const succession = handOver.succession();
    expect([...(succession.keptSinks?.keys() ?? [])]).toEqual(['same']);
    expect(succession.handedQueues?.get('keys')?.map((e) => (e.kind === 'batch' ? e.cycle : -1))).toEqual([
      2, 3,
    ]);
    expect(succession.afterCycle).toBe(old.lastCycle);
    expect(succession.previousState).toBe(old.keptState);

    const next = createPipeline(nextConfig, { registry: reg, logger: silentLogger(), ...succession });
    handOver.completed();
    void next.run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The new `keys` writes what the old one held first; the old one keeps the write it had started.
    expect(writes.find((w) => w.startsWith('there:'))).toBe('there:2');
    expect(writes).toContain('here:1');
    // The next pipeline claimed the resource: not released with the old one, but once nothing runs it.
    expect(disposed).toEqual([]);
    next.stop();
    await next.run();
    expect(disposed).toEqual(['r']);
  });

  it('on a cancelled reload closes the runners it kept and releases the old state', async () => {
    const { reg, parse, disposed } = handOverRegistry();
    const config = parse('  same: { type: stuck, shutdown_timeout: 0s }');
    const old = createPipeline(config, { registry: reg, logger: silentLogger() });
    const ran = old.run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const handOver = new PipelineHandOver(old, config);
    old.stop();
    await ran;
    // The old pipeline ended without closing what it handed over nor releasing what a successor may claim.
    expect(disposed).toEqual([]);
    await handOver.cancel();
    expect(disposed).toEqual(['r']);
  });
});
