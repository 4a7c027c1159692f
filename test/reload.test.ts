import { concat, delay, from, fromEvent, map, mergeMap, of, takeUntil } from 'rxjs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../src/config/index.js';
import { defineSink, defineSource } from '../src/component/component.js';
import { silentLogger } from '../src/component/logger.js';
import { Registry } from '../src/component/registry.js';
import { PipelineSupervisor } from '../src/engine/supervisor.js';
import { ConfigError, RetryableError } from '../src/component/errors.js';
import type { MetricBatch, NodeBatch, PipelineEvent } from '../src/model/types.js';
import { collectingSink } from '../src/testing/collecting-sink.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { startSimulatedCluster } from '../src/sim/index.js';
import aggregate from '../processors/aggregate/index.js';
import rate from '../processors/rate/index.js';
import { SetValues } from '../src/model/set-values.js';

// A source that emits one node batch and one cycle end per tick, named by its `label`, so a test can tell which
// pipeline produced what. Its CPU counter grows by one core-second per second of the clock, so its rate is
// always 1,000 millicores. It counts from the test's start: epoch ms × 1e6 is beyond 2^53, where doubles lose
// the nanoseconds the rate is made of.
const COUNTER_ORIGIN = Date.now();
/** Batches the `labelled` source made, by label: what a test can hold delivered plus dropped against. */
const produced = new Map<string, number>();
const labelled = defineSource({
  type: 'labelled',
  description: 'one set per tick, labelled',
  config: z.strictObject({ label: z.string() }),
  create: (config, ctx) =>
    ctx.ticks.pipe(
      map((tick) => {
        produced.set(config.label, (produced.get(config.label) ?? 0) + 1);
        return { tick, now: ctx.clock.now() };
      }),
      mergeMap(({ tick, now }) =>
        from<PipelineEvent[]>([
          {
            kind: 'batch',
            scope: 'node',
            node: 'n1',
            cycle: tick.cycle,
            timestamp: tick.time,
            sets: [
              {
                type: 'node',
                key: 'node:n1',
                labels: { type: 'node', origin: config.label },
                values: SetValues.from({ 'cpu/usage': (now - COUNTER_ORIGIN) * 1e6 }),
                labeled: [],
                scrapeTime: now,
                startTime: 0,
              },
            ],
          },
          {
            kind: 'cycle_end',
            cycle: tick.cycle,
            timestamp: tick.time,
            nodesExpected: 1,
            nodesAnswered: 1,
            failures: [],
            durationMs: 0,
          },
        ]),
      ),
    ),
});

// A source whose tick gets node a's pod at once and node b's 400 ms later, then the cycle's end: a reload in between
// comes in the middle of a cycle. Like the kubelet source, it gives up what is in flight when the pipeline is
// aborted (not when it is stopped). Each pod uses 100 bytes of memory, so a cluster set sums 100 per node.
const twoNodes = defineSource({
  type: 'two_nodes',
  description: 'two nodes, the second one slow',
  config: z.strictObject({ label: z.string().default('') }),
  create: (config, ctx) => {
    const podOf = (node: string, cycle: number, time: number): PipelineEvent => ({
      kind: 'batch',
      scope: 'node',
      node,
      cycle,
      timestamp: time,
      sets: [
        {
          type: 'pod',
          key: `pod:ns1/${node}-pod`,
          labels: { type: 'pod', namespace_name: 'ns1', pod_name: `${node}-pod`, origin: config.label },
          values: SetValues.from({ 'memory/usage': 100 }),
          labeled: [],
          scrapeTime: time,
          startTime: 0,
        },
      ],
    });
    return ctx.ticks.pipe(
      mergeMap((tick) =>
        concat(
          of(podOf('a', tick.cycle, tick.time)),
          of(podOf('b', tick.cycle, tick.time)).pipe(delay(400), takeUntil(fromEvent(ctx.signal, 'abort'))),
          of<PipelineEvent>({
            kind: 'cycle_end',
            cycle: tick.cycle,
            timestamp: tick.time,
            nodesExpected: 2,
            nodesAnswered: 2,
            failures: [],
            durationMs: 400,
          }),
        ),
      ),
    );
  },
});

/**
 * A sink that fails every write while `state.down` (or while its `note` is in `state.downNotes`), and counts its
 * instances, closes (by note) and deliveries.
 */
function switchableSink() {
  const state = {
    down: false,
    downNotes: new Set<string>(),
    created: 0,
    closed: 0,
    closedNotes: [] as string[],
    delivered: [] as MetricBatch[],
  };
  const definition = defineSink({
    type: 'switchable',
    description: 'fails every write while down',
    config: z.strictObject({ note: z.string() }),
    create: (config) => {
      // A sink that cannot start, as one whose password_file cannot be read.
      if (config.note === 'unbuildable') throw new Error('cannot read the password file');
      state.created++;
      return {
        write: (batch) => {
          if (state.down || state.downNotes.has(config.note)) {
            return Promise.reject(new RetryableError('the sink is down'));
          }
          state.delivered.push(batch);
          return Promise.resolve();
        },
        close: () => {
          state.closed++;
          state.closedNotes.push(config.note);
          return Promise.resolve();
        },
      };
    },
  });
  return { definition, state };
}

const withSwitchable = (label: string, note: string) =>
  `resolution: 1s\nsource: { type: labelled, label: ${label} }\nsinks:\n  out:\n    type: switchable\n` +
  `    note: ${note}\n    retry: { initial_backoff: 20ms, max_backoff: 50ms }\n    shutdown_timeout: 3s\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Waits, if need be, until the first 200 ms of a 1 s cycle: a pipeline started then ticks at once (later in the
 * cycle its first tick waits for the boundary), so a test's timing does not depend on when it runs.
 */
const earlyInCycle = () => sleep(Date.now() % 1000 < 200 ? 0 : 1020 - (Date.now() % 1000));

/**
 * Runs the `labelled` source into a switchable sink (label and note of `before`) for about two cycles, then
 * reloads to `after`; `prepare` sets the sink up before the start. Returns how long the reload took.
 */
async function runThenReload(
  before: readonly [label: string, note: string],
  after: readonly [label: string, note: string],
  prepare: (state: ReturnType<typeof switchableSink>['state']) => void,
) {
  const { definition, state } = switchableSink();
  const registry = new Registry().register(labelled, definition);
  const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
  prepare(state);
  await earlyInCycle();
  supervisor.start(parsePipelineConfig(withSwitchable(...before), 'p.yaml', registry, {}));
  await sleep(1200);
  const reloadStarted = Date.now();
  await supervisor.reload(() =>
    Promise.resolve(parsePipelineConfig(withSwitchable(...after), 'p.yaml', registry, {})),
  );
  return { state, supervisor, reloadMs: Date.now() - reloadStarted };
}

const file = (label: string) =>
  `resolution: 1s\nsource: { type: labelled, label: ${label} }\nsinks:\n  out: { type: collect }\n`;

describe('reload', () => {
  it('refuses a broken config and keeps the old pipeline; swaps to a valid one', async () => {
    const { definition, collected } = collectingSink();
    const registry = new Registry().register(labelled, definition);
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    await earlyInCycle();
    supervisor.start(parsePipelineConfig(file('first'), 'p.yaml', registry, {}));
    const first = supervisor.pipeline;
    await new Promise((r) => setTimeout(r, 1200));

    await supervisor.reload(() =>
      Promise.resolve().then(() =>
        parsePipelineConfig('resolution: soon\n' + file('broken'), 'p.yaml', registry, {}),
      ),
    );
    expect(supervisor.pipeline).toBe(first);
    expect(supervisor.telemetry.value('heapstream_config_reloads_total', { result: 'invalid' })).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    const origins = () => collected.batches.map((b) => b.sets[0]?.labels.origin);
    expect(origins().filter((o) => o === 'first').length).toBeGreaterThanOrEqual(2);

    await supervisor.reload(() =>
      Promise.resolve(parsePipelineConfig(file('second'), 'p.yaml', registry, {})),
    );
    expect(supervisor.pipeline).not.toBe(first);
    await new Promise((r) => setTimeout(r, 1100));
    supervisor.stop();
    expect(await supervisor.done).toBe(false);
    expect(origins()).toContain('second');
    // Once the second pipeline ran, the first produced nothing more.
    const firstSecond = origins().indexOf('second');
    expect(
      origins()
        .slice(firstSecond)
        .every((o) => o === 'second'),
    ).toBe(true);
    // The sink is the same in both files: the second pipeline kept it, so it closed once, at the end.
    expect(collected.closed).toBe(1);
    expect(supervisor.telemetry.value('heapstream_config_reloads_total', { result: 'applied' })).toBe(1);
  });

  it('a valid reload hands rate state to the new pipeline: its first batch already has rates', async () => {
    const { definition, collected } = collectingSink();
    const registry = new Registry().register(labelled, rate, definition);
    const withRate = (label: string) =>
      `resolution: 1s\nsource: { type: labelled, label: ${label} }\nprocessors:\n  - type: rate\n` +
      `sinks:\n  out: { type: collect }\n`;
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    await earlyInCycle();
    supervisor.start(parsePipelineConfig(withRate('first'), 'p.yaml', registry, {}));
    await new Promise((r) => setTimeout(r, 1200));
    await supervisor.reload(() =>
      Promise.resolve(parsePipelineConfig(withRate('second'), 'p.yaml', registry, {})),
    );
    // The new pipeline starts with the next cycle, at its boundary.
    while (!collected.batches.some((b) => b.sets[0]?.labels.origin === 'second')) await sleep(20);
    supervisor.stop();
    expect(await supervisor.done).toBe(false);

    const rateOf = (origin: string) =>
      collected.batches
        .filter((b) => b.sets[0]?.labels.origin === origin)
        .map((b) => b.sets[0]?.values.get('cpu/usage_rate'));
    // The first pipeline's first batch has no earlier sample; the second pipeline starts with one.
    expect(rateOf('first')[0]).toBeUndefined();
    expect(rateOf('first').slice(1)).toContain(1000);
    expect(rateOf('second')[0]).toBe(1000);
  });

  it('a reload in the middle of a cycle lets the old pipeline finish it: its cluster set counts both nodes', async () => {
    // The sink changes type with the reload: what the old one had not written yet, the new one delivers.
    const before = collectingSink('collect_before');
    const after = collectingSink('collect_after');
    const registry = new Registry().register(twoNodes, aggregate, before.definition, after.definition);
    const yaml = (label: string, sink: string) =>
      `resolution: 1s\nsource: { type: two_nodes, label: ${label} }\n` +
      `processors:\n  - { type: aggregate, levels: [cluster] }\nsinks:\n  out: { type: ${sink} }\n`;
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    supervisor.start(parsePipelineConfig(yaml('old', 'collect_before'), 'p.yaml', registry, {}));
    // Reload as soon as node a's batch is delivered: node b's comes 400 ms later, so the cycle is in flight.
    while (before.collected.batches.length === 0) await new Promise((r) => setTimeout(r, 5));
    const inFlight = before.collected.batches[0]!.cycle;
    expect(before.collected.batches.some((b) => b.scope === 'node' && b.node === 'b')).toBe(false);
    await supervisor.reload(() =>
      Promise.resolve(parsePipelineConfig(yaml('new', 'collect_after'), 'p.yaml', registry, {})),
    );
    supervisor.stop();
    expect(await supervisor.done).toBe(false);

    // In delivery order: the old sink's, then the new sink's, which begin with what the old one handed over.
    const delivered = [...before.collected.batches, ...after.collected.batches];
    const oldNodes = delivered.filter(
      (b): b is NodeBatch => b.scope === 'node' && b.sets[0]?.labels.origin === 'old',
    );
    expect(oldNodes.map((b) => [b.cycle, b.node])).toEqual([
      [inFlight, 'a'],
      [inFlight, 'b'],
    ]);
    // The old pipeline's cluster batch of that cycle is the first one delivered for it, with both nodes summed.
    const cluster = delivered
      .find((b) => b.scope === 'cluster' && b.cycle === inFlight)
      ?.sets.find((s) => s.type === 'cluster');
    expect(cluster?.values).toMatchObject({ 'memory/usage': 200, nodes_reporting: 2, nodes_expected: 2 });
    expect([before.collected.closed, after.collected.closed]).toEqual([1, 1]);
  });

  it('keeps an unchanged sink running: one that is down holds neither the reload nor its queue back', async () => {
    const { state, supervisor, reloadMs } = await runThenReload(
      ['kept-before', 'a'],
      ['kept-after', 'a'],
      (s) => {
        s.down = true;
      },
    );
    // The old pipeline did not wait for the sink's shutdown_timeout (3 s) to drop what it held.
    expect(reloadMs).toBeLessThan(2500);
    expect(state).toMatchObject({ created: 1, closed: 0, delivered: [] });
    await sleep(1100);
    state.down = false;
    while (!state.delivered.some((b) => b.sets[0]?.labels.origin === 'kept-after')) await sleep(20);
    supervisor.stop();
    expect(await supervisor.done).toBe(false);

    const origins = state.delivered.map((b) => b.sets[0]?.labels.origin);
    // Every batch made before the reload was delivered after it, in order and once each: nothing lost.
    expect(origins.filter((o) => o === 'kept-before').length).toBe(produced.get('kept-before'));
    expect(produced.get('kept-before')).toBeGreaterThanOrEqual(2);
    expect(origins.lastIndexOf('kept-before')).toBeLessThan(origins.indexOf('kept-after'));
    const ids = state.delivered.map((b) => `${b.sets[0]?.labels.origin} ${b.cycle}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(supervisor.telemetry.total('heapstream_sink_dropped_batches_total')).toBe(0);
    expect(state).toMatchObject({ created: 1, closed: 1 });
  });

  it('replaces a changed sink at once and hands it what the old one still held: nothing is lost', async () => {
    // The old sink is broken (a wrong password, say); the reload fixes it.
    const { state, supervisor, reloadMs } = await runThenReload(['broken', 'a'], ['fixed', 'b'], (s) => {
      s.downNotes.add('a');
    });
    // The new pipeline started at once, beside the old sink, which still retries the batch it was writing.
    expect(reloadMs).toBeLessThan(2500);
    expect(state.created).toBe(2);
    while (!state.delivered.some((b) => b.sets[0]?.labels.origin === 'fixed')) await sleep(20);
    expect(state.closedNotes).toEqual([]);

    supervisor.stop();
    expect(await supervisor.done).toBe(false);
    // `done` waited for the old sink too: it gave up its one batch in flight at its shutdown_timeout, counted.
    expect(state.closedNotes.sort()).toEqual(['a', 'b']);
    const dropped = supervisor.telemetry.total('heapstream_sink_dropped_batches_total', {
      reason: 'shutdown',
    });
    expect(dropped).toBe(1);
    const origins = state.delivered.map((b) => b.sets[0]?.labels.origin);
    // What the old sink held was delivered by the new one, before the new pipeline's own batches.
    expect(origins.filter((o) => o === 'broken').length + dropped).toBe(produced.get('broken'));
    expect(origins.filter((o) => o === 'broken').length).toBeGreaterThanOrEqual(1);
    expect(origins.lastIndexOf('broken')).toBeLessThan(origins.indexOf('fixed'));
  });

  it('runs the previous config again when the new pipeline cannot be built, counting what was lost', async () => {
    const { definition, state } = switchableSink();
    const registry = new Registry().register(labelled, definition);
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    state.downNotes.add('a');
    await earlyInCycle();
    supervisor.start(parsePipelineConfig(withSwitchable('lost', 'a'), 'p.yaml', registry, {}));
    await sleep(1200);
    await supervisor.reload(() =>
      Promise.resolve(parsePipelineConfig(withSwitchable('lost', 'unbuildable'), 'p.yaml', registry, {})),
    );
    expect(supervisor.telemetry.value('heapstream_config_reloads_total', { result: 'failed' })).toBe(1);
    expect(supervisor.pipeline).toBeDefined();
    expect(state.created).toBe(2); // the first sink, then the previous config's sink again
    supervisor.stop();
    expect(await supervisor.done).toBe(false);

    const dropped = (reason: string) =>
      supervisor.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'out', reason });
    // What the old sink held went nowhere: counted. The rest (its write in flight, and what the restarted
    // pipeline made for a sink that is still down) was dropped at shutdown: counted too.
    expect(dropped('reload_failed')).toBeGreaterThanOrEqual(1);
    expect(state.delivered).toEqual([]);
    expect(dropped('reload_failed') + dropped('shutdown')).toBe(produced.get('lost'));
  });

  it('a stop that comes while a reload waits for the old pipeline still ends the run', async () => {
    const { definition } = collectingSink();
    const registry = new Registry().register(twoNodes, definition);
    const yaml = 'resolution: 1s\nsource: { type: two_nodes }\nsinks:\n  out: { type: collect }\n';
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    await earlyInCycle();
    supervisor.start(parsePipelineConfig(yaml, 'p.yaml', registry, {}));
    await sleep(50);
    // The first cycle waits 400 ms for node b: the reload is still waiting for it when the stop comes.
    const reloading = supervisor.reload(() =>
      Promise.resolve(parsePipelineConfig(yaml, 'p.yaml', registry, {})),
    );
    await sleep(50);
    supervisor.stop();
    await reloading;
    expect(await supervisor.done).toBe(false);
    expect(supervisor.pipeline).toBeUndefined();
  });

  it('a broken file is a ConfigError, which is what the supervisor refuses', () => {
    const registry = new Registry().register(labelled, collectingSink().definition);
    expect(() => parsePipelineConfig('resolution: soon\n' + file('x'), 'p.yaml', registry, {})).toThrow(
      ConfigError,
    );
  });
});

// The kubelet source against the simulated cluster that `discovery: simulated` starts, over real HTTP, reloaded to
// the same file (a SIGHUP after an edit elsewhere, say) at a chosen moment of a cycle.
// With the decode threads too: a reload starts the new source's pool and closes the old one's after its last cycle.
describe.each([0, 'auto'])('reload of a kubelet source on the simulated cluster (workers: %s)', (workers) => {
  const pipelineFile = (discovery: string) =>
    [
      'resolution: 1s',
      `workers: ${workers}`,
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      '  timeout: 800ms',
      `  discovery: ${discovery}`,
      'processors:',
      '  - type: rate',
      'sinks:',
      '  out: { type: collect }',
    ].join('\n');

  /** Waits until the clock is `ms` into a 1 s cycle (after at least one full cycle has ticked). */
  async function untilIntoCycle(ms: number) {
    await sleep(1000 - (Date.now() % 1000) + ms);
  }

  async function runReloadingAt(yaml: string, msIntoCycle: number) {
    const { definition, collected } = collectingSink();
    const registry = createBuiltinRegistry().register(definition);
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    supervisor.start(parsePipelineConfig(yaml, 'p.yaml', registry, {}));
    while (collected.marks.length < 2) await sleep(20);
    await untilIntoCycle(msIntoCycle);
    const deliveredBefore = collected.marks.length;
    await supervisor.reload(() => Promise.resolve(parsePipelineConfig(yaml, 'p.yaml', registry, {})));
    expect(supervisor.telemetry.value('heapstream_config_reloads_total', { result: 'applied' })).toBe(1);
    while (collected.marks.length < deliveredBefore + 2) await sleep(20);
    supervisor.stop();
    expect(await supervisor.done).toBe(false);
    return { collected, telemetry: supervisor.telemetry };
  }

  function expectEachCycleOnceInOrder(collected: ReturnType<typeof collectingSink>['collected']) {
    const cycles = collected.marks.map((m) => m.cycle);
    // Consecutive cycles, each once: the new pipeline started with the first one the old one did not deliver.
    expect(cycles).toEqual(cycles.map((_, i) => (cycles[0] ?? 0) + i));
    const batchIds = collected.batches.map((b) => `${b.cycle} ${b.scope === 'node' ? b.node : ''}`);
    expect(new Set(batchIds).size).toBe(batchIds.length);
    // Every batch comes before its cycle's end and after the previous one's.
    let cycle = -Infinity;
    for (const event of collected.events) {
      expect(event.cycle).toBeGreaterThanOrEqual(cycle);
      cycle = event.kind === 'cycle_end' ? event.cycle + 1 : event.cycle;
    }
  }

  it('neither repeats nor reorders a cycle, and rates go on: the simulated cluster is the same', async () => {
    const { collected } = await runReloadingAt(
      pipelineFile('{ simulated: { nodes: 3, pods_per_node: 2, first_address: 127.0.16.1 } }'),
      500,
    );
    expectEachCycleOnceInOrder(collected);
    expect(collected.marks.map((m) => m.nodesAnswered)).toEqual(collected.marks.map(() => 3));
    // Only the very first cycle lacks rates: after the reload the same fake kubelets' counters go on.
    const nodeRates = collected.batches
      .filter((b) => b.cycle > (collected.marks[0]?.cycle ?? 0))
      .flatMap((b) => b.sets.filter((s) => s.type === 'node'))
      .map((s) => s.values.get('cpu/usage_rate'));
    expect(nodeRates.length).toBeGreaterThanOrEqual(9);
    expect(nodeRates.every((r) => typeof r === 'number' && r > 0)).toBe(true);
  });

  it('a reload 33 ms before a tick scrapes every node in the next cycle: none busy, none out of order', async () => {
    // Kubelets that take 150 ms to answer: a cycle scraped at once on reload would still be in flight at the tick.
    const cluster = await startSimulatedCluster({
      nodes: 3,
      podsPerNode: 2,
      port: 0,
      firstAddress: '127.0.17.1',
    });
    for (const node of cluster.nodes) cluster.setFault(node.name, { kind: 'slow', delayMs: 150 });
    const nodes = cluster.nodes.map((n) => `{ name: ${n.name}, address: ${n.address}, port: ${n.port} }`);
    const { collected, telemetry } = await runReloadingAt(
      pipelineFile(`{ static: [${nodes.join(', ')}] }`),
      967,
    ).finally(() => cluster.stop());
    expectEachCycleOnceInOrder(collected);
    expect(collected.marks.map((m) => `${m.nodesAnswered}/${m.nodesExpected}`)).toEqual(
      collected.marks.map(() => '3/3'),
    );
    expect(telemetry.total('heapstream_scrape_errors_total')).toBe(0);
  });
});
