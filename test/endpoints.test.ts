import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { silentLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import type { MetricBatch, MetricSet } from '../src/model/types.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { collectingSink } from '../src/testing/collecting-sink.js';

// Whichever endpoint users can reach, they get the same metric sets: the three kubelet sources scrape the same
// simulated kubelets over real HTTP, and agree on the set keys and on what each of them reports.
describe('every kubelet endpoint against the simulator', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startSimulatedCluster({
      nodes: 2,
      podsPerNode: 5,
      port: 0,
      firstAddress: '127.0.4.1',
      restartEvery: 0,
    });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  async function collect(sourceLines: string[]): Promise<MetricSet[]> {
    const { definition, collected } = collectingSink();
    const registry = createBuiltinRegistry().register(definition);
    const nodes = cluster.nodes.map(
      (n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`,
    );
    const yaml = [
      'resolution: 1s',
      'source:',
      ...sourceLines,
      '  scheme: http',
      '  discovery:',
      '    static:',
      ...nodes,
      'sinks:',
      '  out: { type: collect }',
    ].join('\n');
    const pipeline = createPipeline(parsePipelineConfig(yaml, 'endpoints.yaml', registry, {}), {
      registry,
      logger: silentLogger(),
      cycles: 1,
    });
    await pipeline.run();
    expect(collected.marks[0]?.failures).toEqual([]);
    return collected.batches.flatMap((b: MetricBatch) => [...b.sets]);
  }

  const keysOf = (sets: MetricSet[], types: string[]) =>
    new Set(sets.filter((s) => types.includes(s.type)).map((s) => s.key));

  it('summary, cAdvisor and Prometheus sources give the same nodes, pods and containers', async () => {
    const summary = await collect(['  type: kubelet_summary']);
    const cadvisor = await collect(['  type: kubelet_cadvisor', `  port: ${cluster.port}`]);
    const prometheus = await collect(['  type: kubelet_prometheus', '  endpoint: cadvisor']);
    const types = ['node', 'pod', 'pod_container'];
    expect(keysOf(summary, types).size).toBeGreaterThan(10);
    expect(keysOf(cadvisor, types)).toEqual(keysOf(summary, types));
    expect(keysOf(prometheus, types)).toEqual(keysOf(summary, types));
    for (const set of summary.filter((s) => s.type === 'pod_container')) {
      const fromCadvisor = cadvisor.find((s) => s.key === set.key);
      // Scraped a moment apart, so counters only grow; memory moves a little between scrapes.
      expect(fromCadvisor?.values.get('cpu/usage')).toBeGreaterThanOrEqual(
        set.values.get('cpu/usage') ?? Infinity,
      );
      expect(fromCadvisor?.values.get('memory/working_set')).toBeGreaterThan(0);
    }
  });

  it('the resource endpoint gives CPU and memory for every pod container', async () => {
    const summary = await collect(['  type: kubelet_summary']);
    const resource = await collect(['  type: kubelet_prometheus', '  endpoint: resource']);
    expect(keysOf(resource, ['pod_container'])).toEqual(keysOf(summary, ['pod_container']));
    for (const set of resource.filter((s) => s.type === 'pod_container')) {
      expect(set.values.get('cpu/usage')).toBeGreaterThan(0);
      expect(set.values.get('memory/working_set')).toBeGreaterThan(0);
    }
  });
});
