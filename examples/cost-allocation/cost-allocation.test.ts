import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fixtureMetadata } from '../../test/support/processors.js';
import { loadPipelineConfig, loadPipelineConfigText } from '../../src/config/index.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ClusterBatch, MetricSet, NodeBatch, PipelineEvent } from '../../src/index.js';
import {
  checkProcessorContract,
  cycleEnd,
  runProcessor,
  summaryBatch,
  testContext,
} from '../../src/testing/index.js';
import costAllocationPlugin from './index.js';
import { labelFromJoined } from './cost-allocation.js';
import { SetValues } from '../../src/model/set-values.js';

const fixtureUrl = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const pipelineFile = fileURLToPath(new URL('./pipeline.yaml', import.meta.url));
const HOUR = 3_600_000;

interface SummaryPod {
  podRef: { name: string; namespace: string };
  cpu?: { usageNanoCores?: number };
}
const payload = JSON.parse(readFileSync(fixtureUrl, 'utf8')) as { pods: SummaryPod[] };

/**
 * The rate processor needs two scrapes to give cpu/usage_rate and the fixture is one; the kubelet's own rate of
 * the same scrape (usageNanoCores, in millicores as Heapster truncated them) stands in for it. New sets: the
 * decoded batch is not touched.
 */
function withKubeletCpuRate(batch: NodeBatch): NodeBatch {
  const rates = new Map(
    payload.pods.map((p) => [`namespace:${p.podRef.namespace}/pod:${p.podRef.name}`, p.cpu?.usageNanoCores]),
  );
  const sets = batch.sets.map((set): MetricSet => {
    const nanoCores = set.type === 'pod' ? rates.get(set.key) : undefined;
    return nanoCores === undefined
      ? set
      : {
          ...set,
          values: SetValues.from({ ...set.values.toJSON(), 'cpu/usage_rate': Math.trunc(nanoCores / 1e6) }),
        };
  });
  return { ...batch, sets };
}

const registry = createBuiltinRegistry;

const text = `resolution: 1h
plugins: [./index.ts]
source:
  type: kubelet_summary
  discovery:
    static: [{ name: node-1, address: 127.0.0.1 }]
processors:
  - type: pod_enricher
  - type: cost_allocation
    team_label: app
    cpu_core_hour: 0.04
    memory_gib_hour: 0.005
    currency: EUR
sinks:
  out:
    type: stdout
`;

/** The pipeline's processors, built from the YAML as the engine builds them, as one operator. */
async function processorsFromYaml(): Promise<OperatorFunction<PipelineEvent, PipelineEvent>> {
  const config = await loadPipelineConfigText(text, pipelineFile, registry(), {});
  expect(config.resolutionMs).toBe(HOUR);
  // As the engine does: the registry plus the file's plugins.
  const reg = registry().with(...config.plugins);
  const metadata = fixtureMetadata('nri-1.34', 'node-1');
  const ops = config.processors.map((entry) => {
    const def = reg.get('processor', entry.type);
    if (def === undefined) throw new Error(`no ${entry.type}`);
    return def.create(
      entry.config,
      testContext({ id: entry.id, metadata, resolutionMs: config.resolutionMs }),
    );
  });
  return (source) => ops.reduce((stream, op) => stream.pipe(op), source);
}

const cycle1 = withKubeletCpuRate(summaryBatch(fixtureUrl, { node: 'node-1', cycle: 1 }));
const events: PipelineEvent[] = [
  cycle1,
  cycleEnd(1, 1),
  withKubeletCpuRate(summaryBatch(fixtureUrl, { node: 'node-1', cycle: 2 })),
  cycleEnd(2, 1),
];

function teams(out: readonly PipelineEvent[], cycle: number): Map<string, MetricSet> {
  const batch = out.find(
    (e): e is ClusterBatch => e.kind === 'batch' && e.scope === 'cluster' && e.cycle === cycle,
  );
  expect(batch).toBeDefined();
  return new Map((batch as ClusterBatch).sets.map((s) => [s.labels.team as string, s]));
}

describe('cost_allocation example, loaded through pipeline.yaml', () => {
  it('emits, per cycle and before its mark, a set per app team priced from real usage', async () => {
    const out = await runProcessor(await processorsFromYaml(), {}, events);
    expect(out.map((e) => (e.kind === 'batch' ? `${e.scope}${e.cycle}` : `end${e.cycle}`))).toEqual([
      'node1',
      'cluster1',
      'end1',
      'node2',
      'cluster2',
      'end2',
    ]);
    const byTeam = teams(out, 1);
    // nri-1.34's pods by their `app` label; nine pods have none.
    expect([...byTeam.keys()]).toEqual([
      'cronjob',
      'daemonset',
      'deployment',
      'hpa',
      'kindnet',
      'scraper',
      'statefulset',
      'unallocated',
    ]);
    const deployment = byTeam.get('deployment') as MetricSet;
    // e2e-deployment-…-7fsxc: 79902760 nanocores → 79 m, 10661888 B; …-mrr5s: 80579638 → 80 m, 10665984 B.
    expect(deployment.values.get('cpu/usage_rate')).toBe(159);
    expect(deployment.values.get('memory/working_set')).toBe(21_327_872);
    expect(deployment.values.get('pods')).toBe(2);
    // 0.159 cores × 1 h × 0.04 = 0.00636; 21327872 B = 0.019863 GiB × 1 h × 0.005 = 0.000099316.
    expect(deployment.values.get('cost/cpu')).toBeCloseTo(0.00636, 12);
    expect(deployment.values.get('cost/memory')).toBeCloseTo((21_327_872 / 2 ** 30) * 0.005, 15);
    expect(deployment.values.get('cost/memory')).toBeCloseTo(0.000099316, 9);
    expect(deployment.values.get('cost/total')).toBeCloseTo(0.00636 + (21_327_872 / 2 ** 30) * 0.005, 15);
    expect(deployment.labels).toEqual({ type: 'cluster', team: 'deployment', currency: 'EUR' });
    expect(deployment.key).toBe('cluster/team:deployment');

    const unallocated = byTeam.get('unallocated') as MetricSet;
    expect(unallocated.values.get('pods')).toBe(9);
    // kube-apiserver 27 + scheduler 3 + storage-provisioner 0 + kube-state-metrics 0 + etcd 13 + coredns 0
    // + metrics-server 2 + kube-proxy 0 + controller-manager 10 millicores.
    expect(unallocated.values.get('cpu/usage_rate')).toBe(55);

    // Every pod is counted once, in exactly one team.
    const pods = cycle1.sets.filter((s) => s.type === 'pod');
    const sum = (name: string) => [...byTeam.values()].reduce((acc, s) => acc + (s.values.get(name) ?? 0), 0);
    expect(sum('pods')).toBe(pods.length);
    expect(sum('memory/working_set')).toBe(
      pods.reduce((acc, s) => acc + (s.values.get('memory/working_set') ?? 0), 0),
    );
    // Both cycles saw the same scrape, so they cost the same.
    expect(teams(out, 2).get('deployment')?.values).toEqual(deployment.values);
  });

  it('passes node batches on untouched', async () => {
    const out = await runProcessor(costAllocationPlugin, { cpu_core_hour: 1, memory_gib_hour: 1 }, events);
    expect(out[0]).toBe(events[0]);
  });

  it('reports a mistake in its config at line:col', async () => {
    const bad = text.replace('cpu_core_hour: 0.04', 'cpu_core_hour: -1').replace('team_label', 'team_lable');
    await expect(loadPipelineConfigText(bad, pipelineFile, registry(), {})).rejects.toThrow(
      [
        `${pipelineFile}:10:5 processors[1].team_lable: unknown key (did you mean "team_label"?)`,
        `${pipelineFile}:11:20 processors[1].cpu_core_hour: Too small: expected number to be >=0`,
      ].join('\n'),
    );
  });

  it('its own pipeline.yaml is valid', async () => {
    const config = await loadPipelineConfig(pipelineFile, registry(), {});
    expect(config.processors.map((p) => p.type)).toEqual(['rate', 'pod_enricher', 'cost_allocation']);
  });

  it('keeps the processor contract', async () => {
    const report = await checkProcessorContract(
      costAllocationPlugin,
      { cpu_core_hour: 0.04, memory_gib_hour: 0.005 },
      events,
    );
    expect(report.problems).toEqual([]);
  });

  it('reads a team from joined labels only at the start of a pair', () => {
    expect(labelFromJoined('app:web,team:payments', 'team', ',')).toBe('payments');
    expect(labelFromJoined('team.example.com/owner:x,team:', 'team', ',')).toBe('');
    expect(labelFromJoined('app.kubernetes.io/name:ksm', 'app', ',')).toBeUndefined();
    expect(labelFromJoined('a:1;;app:x', 'app', ';;')).toBe('x');
  });
});
