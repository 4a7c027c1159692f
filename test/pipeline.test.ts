import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { silentLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { collectingSink } from '../src/testing/collecting-sink.js';

// The whole pipeline over real HTTP: fake kubelets on their own loopback addresses, the summary source, and a
// collecting sink. One node is slow, one answers 500, one sends truncated JSON: only their own batches suffer.
describe('pipeline against the simulated cluster', () => {
  let cluster: SimulatedCluster;

  beforeAll(async () => {
    cluster = await startSimulatedCluster({ nodes: 6, podsPerNode: 6, port: 0, firstAddress: '127.0.2.1' });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  function pipelineFor(timeout: string, cycles: number) {
    const { definition, collected } = collectingSink();
    const registry = createBuiltinRegistry().register(definition);
    const nodes = cluster.nodes.map(
      (n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`,
    );
    const yaml = [
      'resolution: 1s',
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      `  timeout: ${timeout}`,
      '  discovery:',
      '    static:',
      ...nodes,
      'sinks:',
      '  out: { type: collect }',
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'test.yaml', registry, {});
    const pipeline = createPipeline(config, { registry, logger: silentLogger(), cycles });
    return { pipeline, collected };
  }

  it('delivers every node, system container, pod and container set, then one cycle end per cycle', async () => {
    const { pipeline, collected } = pipelineFor('2s', 2);
    await pipeline.run();
    expect(collected.marks.map((m) => m.nodesAnswered)).toEqual([6, 6]);
    const first = collected.batches.filter((b) => b.cycle === collected.marks[0]?.cycle);
    expect(new Set(first.map((b) => (b.scope === 'node' ? b.node : '')))).toEqual(
      new Set(cluster.nodes.map((n) => n.name)),
    );
    const types = new Set(first.flatMap((b) => b.sets.map((s) => s.type)));
    expect(types).toEqual(new Set(['node', 'sys_container', 'pod', 'pod_container']));
    // The cycle end follows its own cycle's batches.
    const firstMark = collected.events.indexOf(collected.marks[0]!);
    expect(
      collected.events.slice(0, firstMark).every((e) => e.kind === 'batch' && e.cycle === first[0]?.cycle),
    ).toBe(true);
    expect(collected.closed).toBe(1);
    expect(
      pipeline.telemetry.value('heapstream_scrapes_total', { source: 'kubelet_summary', result: 'ok' }),
    ).toBe(12);
  });

  it('a slow, a failing, a truncating and a garbage-sending kubelet affect only their own node', async () => {
    const [slow, failing, truncated, garbage, healthyA, healthyB] = cluster.nodes;
    cluster.setFault(slow!.name, { kind: 'slow', delayMs: 3000 });
    cluster.setFault(failing!.name, { kind: 'status', status: 500 });
    // Half the promised body, then the connection closes: the client sees the body cut short.
    cluster.setFault(truncated!.name, { kind: 'truncated' });
    // A complete 200 response whose body is not JSON.
    cluster.setFault(garbage!.name, { kind: 'garbage' });
    try {
      const started = Date.now();
      const arrivals = new Map<string, number>();
      const { pipeline, collected } = pipelineFor('1500ms', 1);
      const origPush = collected.batches.push.bind(collected.batches);
      collected.batches.push = (...items) => {
        for (const b of items) if (b.scope === 'node') arrivals.set(b.node, Date.now() - started);
        return origPush(...items);
      };
      await pipeline.run();

      const mark = collected.marks[0]!;
      expect(mark.nodesExpected).toBe(6);
      expect(mark.nodesAnswered).toBe(2);
      const reasons = Object.fromEntries(mark.failures.map((f) => [f.node, f.reason]));
      expect(reasons).toEqual({
        [slow!.name]: 'timeout',
        [failing!.name]: 'http_status',
        [truncated!.name]: 'connection',
        [garbage!.name]: 'decode',
      });
      expect(mark.failures.find((f) => f.node === garbage!.name)?.message).toContain('not valid JSON');
      expect(mark.failures.find((f) => f.node === failing!.name)?.message).toContain('500');
      // Healthy nodes were delivered long before the slow node's deadline ran out.
      expect(arrivals.get(healthyA!.name)).toBeLessThan(1000);
      expect(arrivals.get(healthyB!.name)).toBeLessThan(1000);
      expect([...arrivals.keys()].sort()).toEqual([healthyA!.name, healthyB!.name].sort());
      const t = pipeline.telemetry;
      expect(
        t.value('heapstream_scrape_errors_total', {
          source: 'kubelet_summary',
          node: slow!.name,
          reason: 'timeout',
        }),
      ).toBe(1);
      expect(
        t.value('heapstream_scrape_errors_total', {
          source: 'kubelet_summary',
          node: garbage!.name,
          reason: 'decode',
        }),
      ).toBe(1);
    } finally {
      for (const n of cluster.nodes) cluster.setFault(n.name, undefined);
    }
  });
});
