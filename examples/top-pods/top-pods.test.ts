import { fileURLToPath } from 'node:url';
import type { OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadPipelineConfig, loadPipelineConfigText } from '../../src/config/index.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { MetricBatch, NodeBatch, PipelineEvent } from '../../src/index.js';
import {
  checkProcessorContract,
  cycleEnd,
  runProcessor,
  summaryBatch,
  testContext,
} from '../../src/testing/index.js';
import topPodsPlugin from './index.js';

const fixture = (name: string) =>
  new URL(`../../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url);
const pipelineFile = fileURLToPath(new URL('./pipeline.yaml', import.meta.url));

const registry = createBuiltinRegistry;

const yaml = (config: string) => `plugins: [./index.ts]
source:
  type: kubelet_summary
  discovery:
    static: [{ name: node-1, address: 127.0.0.1 }]
processors:
  - type: top_pods
${config}
sinks:
  out:
    type: stdout
`;

async function topPodsFromYaml(config: string): Promise<OperatorFunction<PipelineEvent, PipelineEvent>> {
  const loaded = await loadPipelineConfigText(yaml(config), pipelineFile, registry(), {});
  const reg = registry().with(...loaded.plugins);
  const entry = loaded.processors[0];
  if (entry === undefined) throw new Error('no processor');
  const def = reg.get('processor', entry.type);
  if (def === undefined) throw new Error(`no processor type ${entry.type}`);
  // As the engine does: the definition registered for the entry's type, given the entry's resolved config.
  return def.create(entry.config, testContext({ id: entry.id }));
}

// Two real nodes: nri-1.34 (minikube, namespaces kube-system and scraper) and otel-minikube (kube-system, default).
const node1 = summaryBatch(fixture('nri-1.34'), { node: 'node-1', cycle: 1 });
const node2 = summaryBatch(fixture('otel-minikube'), { node: 'node-2', cycle: 1 });
const events: PipelineEvent[] = [
  node1,
  node2,
  cycleEnd(1, 2),
  summaryBatch(fixture('nri-1.34'), { node: 'node-1', cycle: 2 }),
  cycleEnd(2, 2),
];

const podNames = (batch: MetricBatch | undefined, type = 'pod') =>
  (batch?.sets ?? [])
    .filter((s) => s.type === type)
    .map((s) => `${s.labels.namespace_name}/${s.labels.pod_name}`);

describe('top_pods example, loaded through pipeline.yaml', () => {
  it('keeps, per cycle, the 3 pods of each namespace with the most working set, across nodes', async () => {
    const op = await topPodsFromYaml('    top: 3\n    metric: memory/working_set');
    const out = await runProcessor(op, {}, events);
    // Batches are held until their cycle's mark, then come out in arrival order before it.
    expect(
      out.map((e) => (e.kind === 'batch' ? `${(e as NodeBatch).node}@${e.cycle}` : `end${e.cycle}`)),
    ).toEqual(['node-1@1', 'node-2@1', 'end1', 'node-1@2', 'end2']);
    const [first, second, , third] = out as MetricBatch[];
    // kube-system across both nodes: minikube's apiserver (243908608 B), 1.34's apiserver (229720064 B) and
    // controller-manager (62038016 B); 1.34's etcd (38658048 B) narrowly beats minikube's controller-manager.
    expect(podNames(first)).toEqual([
      'kube-system/kube-apiserver-datagen-1-34',
      'scraper/e2e-kube-state-metrics-64d545d47-nvr8f', // 18743296 B
      'scraper/e2e-daemonset-79ft8', // 10743808 B
      'kube-system/kube-controller-manager-datagen-1-34',
      'scraper/e2e-statefulset-0', // 10932224 B
    ]);
    expect(podNames(second)).toEqual([
      'default/go-hello-world-5456b4b8cd-99vxc',
      'kube-system/kube-apiserver-minikube',
    ]);
    // The containers of the kept pods stay; node and system container sets are untouched.
    expect(podNames(first, 'pod_container')).toHaveLength(5);
    expect(first?.sets.filter((s) => s.type === 'node' || s.type === 'sys_container')).toEqual(
      node1.sets.filter((s) => s.type === 'node' || s.type === 'sys_container'),
    );
    expect(first?.sets).toHaveLength(node1.sets.length - 2 * (18 - 5));
    // Cycle 2 has node-1 alone: its etcd is now third in kube-system.
    expect(podNames(third).filter((p) => p.startsWith('kube-system/'))).toEqual([
      'kube-system/kube-apiserver-datagen-1-34',
      'kube-system/etcd-datagen-1-34',
      'kube-system/kube-controller-manager-datagen-1-34',
    ]);
  });

  it('keep_containers: false drops every container set; a batch with nothing to drop goes on as is', async () => {
    const op = await topPodsFromYaml(
      '    top: 100\n    metric: memory/working_set\n    keep_containers: false',
    );
    const out = (await runProcessor(op, {}, events)) as MetricBatch[];
    expect(podNames(out[0])).toHaveLength(18);
    expect(podNames(out[0], 'pod_container')).toEqual([]);
    const kept = await runProcessor(await topPodsFromYaml('    top: 100'), {}, events);
    expect(kept[0]).toBe(node1);
  });

  it('ranks pods without the metric last (no cpu/usage_rate before the rate processor has two scrapes)', async () => {
    const out = (await runProcessor(await topPodsFromYaml('    top: 2'), {}, events)) as MetricBatch[];
    // Every pod lacks cpu/usage_rate, so ties are broken by key across both nodes: kube-system keeps
    // coredns-66bc5c9577-… (node-1) and coredns-66bff467f8-58qvv (node-2).
    expect(podNames(out[0]).filter((p) => p.startsWith('kube-system/'))).toEqual([
      'kube-system/coredns-66bc5c9577-d98t2',
    ]);
    expect(podNames(out[1])).toEqual([
      'default/go-hello-world-5456b4b8cd-99vxc',
      'kube-system/coredns-66bff467f8-58qvv',
    ]);
  });

  it('reports a mistake in its config at line:col', async () => {
    await expect(topPodsFromYaml('    top: 0\n    metrik: cpu/usage_rate')).rejects.toThrow(
      [
        `${pipelineFile}:8:10 processors[0].top: Too small: expected number to be >0`,
        `${pipelineFile}:9:5 processors[0].metrik: unknown key (did you mean "metric"?)`,
      ].join('\n'),
    );
  });

  it('its own pipeline.yaml is valid', async () => {
    const config = await loadPipelineConfig(pipelineFile, registry(), {});
    expect(config.processors.map((p) => p.type)).toEqual(['rate', 'top_pods']);
  });

  it('keeps the processor contract', async () => {
    const report = await checkProcessorContract(
      topPodsPlugin,
      { top: 2, metric: 'memory/working_set' },
      events,
    );
    expect(report.problems).toEqual([]);
  });
});
