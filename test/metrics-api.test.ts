import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../src/builtins.js';
import { defineSink } from '../src/component/component.js';
import { silentLogger } from '../src/component/logger.js';
import { parsePipelineConfig } from '../src/config/index.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { LABEL } from '../src/model/labels.js';
import type { CycleEnd, MetricSet } from '../src/model/types.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { collectingSink } from '../src/testing/collecting-sink.js';
import { metricsApiSinkConfig } from '../sinks/metrics-api/config.js';
import { createMetricsApiSink, type MetricsApiSink } from '../sinks/metrics-api/metrics-api-sink.js';
import { GOOD_TOKEN, TokenTestGuard, httpsGet } from './support/metrics-api.js';

// The whole way: fake kubelets over real HTTP, the kubelet_summary source, the rate processor, and the
// metrics_api sink next to a collecting sink; real HTTPS GETs at the end of the last cycle give the same numbers
// as the pipeline's own cpu/usage_rate and memory/working_set of that cycle.

interface Item {
  metadata: { name: string; namespace?: string };
  usage?: { cpu: string; memory: string };
  containers?: { name: string; usage: { cpu: string; memory: string } }[];
}

const CPU_UNITS: Readonly<Record<string, number>> = { n: 1, u: 1e3, m: 1e6, '': 1e9 };
/** A cpu quantity as the metrics API writes it, in nanocores. */
function nanocores(text: string): number {
  const match = /^(\d+)([num]?)$/.exec(text);
  if (match === null) throw new Error(`unexpected cpu quantity ${text}`);
  return Number(match[1]) * (CPU_UNITS[match[2] as string] as number);
}
const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};
function bytes(text: string): number {
  const match = /^(\d+)(k|Ki|Mi|Gi|)$/.exec(text);
  if (match === null) throw new Error(`unexpected memory quantity ${text}`);
  return Number(match[1]) * (MEMORY_UNITS[match[2] as string] as number);
}

/**
 * The API's millicores against the rate processor's: both truncate the same ΔCPU ÷ Δt, one to nanocores and one to
 * millicores, so the nanocores floored to millicores are the rate, give or take one for floating-point rounding.
 */
function expectSameCpu(apiText: string, rateMillicores: number | undefined): void {
  expect(rateMillicores).toBeDefined();
  expect(Math.abs(Math.floor(nanocores(apiText) / 1e6) - (rateMillicores as number))).toBeLessThanOrEqual(1);
}

describe('metrics_api in a pipeline against the simulated cluster', { timeout: 60_000 }, () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startSimulatedCluster({
      nodes: 3,
      podsPerNode: 5,
      firstAddress: '127.0.5.1',
      restartEvery: 0,
    });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('serves the same cpu and memory as the pipeline computed for the same cycle', async () => {
    const { definition: collect, collected } = collectingSink();
    let sink: MetricsApiSink | undefined;
    const answers: { nodes?: Item[]; pods?: Item[]; lastMark?: CycleEnd } = {};
    const CYCLES = 3;
    // The metrics_api sink with a test guard, wrapped so the test can ask it over HTTPS at the last cycle's end.
    const underTest = defineSink({
      type: 'metrics_api_under_test',
      description: 'metrics_api with a test guard',
      config: metricsApiSinkConfig,
      runnerDefaults: { select: { types: ['node', 'pod_container'] } },
      create: (config, ctx) => {
        const created = createMetricsApiSink(config, ctx, {
          createGuard: () => Promise.resolve(new TokenTestGuard()),
        });
        sink = created;
        return {
          ...created,
          async cycleEnd(mark: CycleEnd) {
            await created.cycleEnd?.(mark);
            if (++seen < CYCLES) return;
            const address = created.address() as { host: string; port: number };
            const get = async (path: string) => {
              const answer = await httpsGet(address, path, { token: GOOD_TOKEN });
              expect(answer.status).toBe(200);
              return (JSON.parse(answer.text) as { items: Item[] }).items;
            };
            answers.nodes = await get('/apis/metrics.k8s.io/v1beta1/nodes');
            answers.pods = await get('/apis/metrics.k8s.io/v1beta1/pods');
            answers.lastMark = mark;
          },
        };
      },
    });
    let seen = 0;
    const registry = createBuiltinRegistry().register(collect, underTest);
    const nodes = cluster.nodes.map(
      (n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`,
    );
    const yaml = [
      'resolution: 2s',
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      '  timeout: 1500ms',
      '  discovery:',
      '    static:',
      ...nodes,
      'processors:',
      '  - type: rate',
      'sinks:',
      '  out: { type: collect }',
      '  api: { type: metrics_api_under_test, listen: "127.0.0.1:0" }',
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'test.yaml', registry, {});
    await createPipeline(config, { registry, logger: silentLogger(), cycles: CYCLES }).run();

    expect(sink).toBeDefined();
    const mark = answers.lastMark as CycleEnd;
    expect(mark.nodesAnswered).toBe(3);
    const sets = collected.batches.filter((b) => b.cycle === mark.cycle).flatMap((b) => b.sets);
    const nodeSets = new Map(sets.filter((s) => s.type === 'node').map((s) => [s.labels[LABEL.nodename], s]));
    const containerSets = new Map<string, MetricSet>(
      sets
        .filter((s) => s.type === 'pod_container')
        .map((s) => [
          `${s.labels[LABEL.namespaceName]}/${s.labels[LABEL.podName]}/${s.labels[LABEL.containerName]}`,
          s,
        ]),
    );

    expect(answers.nodes?.map((n) => n.metadata.name)).toEqual(cluster.nodes.map((n) => n.name));
    for (const node of answers.nodes ?? []) {
      const set = nodeSets.get(node.metadata.name) as MetricSet;
      expectSameCpu(node.usage?.cpu as string, set.values.get('cpu/usage_rate'));
      expect(bytes(node.usage?.memory as string)).toBe(set.values.get('memory/working_set'));
    }

    const servedContainers = (answers.pods ?? []).flatMap((p) =>
      (p.containers ?? []).map((c) => ({
        key: `${p.metadata.namespace}/${p.metadata.name}/${c.name}`,
        usage: c.usage,
      })),
    );
    // Every container the pipeline rated is served, and nothing else.
    const rated = [...containerSets]
      .filter(([, s]) => s.values.get('cpu/usage_rate') !== undefined)
      .map(([k]) => k);
    expect(servedContainers.map((c) => c.key).sort()).toEqual(rated.sort());
    expect(servedContainers.length).toBeGreaterThan(10);
    for (const { key, usage } of servedContainers) {
      const set = containerSets.get(key) as MetricSet;
      expectSameCpu(usage.cpu, set.values.get('cpu/usage_rate'));
      expect(bytes(usage.memory)).toBe(set.values.get('memory/working_set'));
    }
  });
});
