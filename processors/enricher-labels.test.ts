import { readdirSync } from 'node:fs';
import { Subject, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import type { ProcessorDefinition } from '../src/component/component.js';
import type { MetadataProvider, NamespaceMeta, NodeMeta, PodMeta } from '../src/component/metadata.js';
import { LABEL } from '../src/model/labels.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../src/model/types.js';
import { cycleEnd, nodeBatch, testContext } from '../src/testing/index.js';
import { fixtureMetadata, fixtureText } from '../test/support/processors.js';

// The enrichers keep each set's labels per node and attach the same frozen object while nothing it was built from
// changed. These tests hold the kept labels to what a fresh enricher (nothing kept) builds from the same input, on
// every real fixture with metadata, through cycles in which pods, namespaces, nodes and the sets' own labels change.

const registry = createBuiltinRegistry();
const CHAIN: readonly [string, unknown][] = [
  ['pod_enricher', { store_labels: ['app', 'k8s-app'] }],
  ['namespace_enricher', { store_labels: ['team'] }],
  ['aggregate', { levels: ['pod', 'namespace', 'node', 'cluster'] }],
  ['node_enricher', { store_labels: ['arch=kubernetes.io/arch'] }],
];

/** Metadata whose objects a test can replace between cycles, as the metadata cache does on a watch event. */
class ChangingMetadata implements MetadataProvider {
  readonly pods = new Map<string, PodMeta>();
  readonly namespaces = new Map<string, NamespaceMeta>();
  readonly nodes = new Map<string, NodeMeta>();
  constructor(from: MetadataProvider, pods: readonly PodMeta[], nodeNames: readonly string[]) {
    for (const pod of pods) {
      this.pods.set(pod.namespace + '/' + pod.name, pod);
      const ns = from.namespace(pod.namespace);
      if (ns !== undefined) this.namespaces.set(ns.name, ns);
    }
    for (const name of nodeNames) {
      const node = from.node(name);
      if (node !== undefined) this.nodes.set(name, node);
    }
  }
  pod = (namespace: string, name: string) => this.pods.get(namespace + '/' + name);
  namespace = (name: string) => this.namespaces.get(name);
  node = (name: string) => this.nodes.get(name);
}

/** An operator fed by hand: each call pushes events and returns what came out synchronously. */
function driven(metadata: MetadataProvider): (events: readonly PipelineEvent[]) => PipelineEvent[] {
  const ctx = testContext({ metadata });
  let operator: OperatorFunction<PipelineEvent, PipelineEvent> | undefined;
  for (const [type, config] of CHAIN) {
    const def = registry.get('processor', type) as ProcessorDefinition;
    const op = def.create(def.config.parse(config), { ...ctx, id: type });
    const before = operator;
    operator = before === undefined ? op : (source) => op(before(source));
  }
  const input = new Subject<PipelineEvent>();
  let out: PipelineEvent[] = [];
  operator?.(input).subscribe((e) => out.push(e));
  return (events) => {
    out = [];
    for (const e of events) input.next(e);
    return out;
  };
}

const batches = (events: readonly PipelineEvent[]) =>
  events.filter((e): e is MetricBatch => e.kind === 'batch');

/** Labels with their key order, which a sink writing JSON would show. */
const ordered = (events: readonly PipelineEvent[]) =>
  batches(events).flatMap((b) => b.sets.map((s) => [s.key, Object.entries(s.labels)]));

function fixturesWithMetadata(): string[] {
  const dir = new URL('../../shared/fixtures/kubelet/', import.meta.url);
  return readdirSync(dir).filter((name) => {
    const files = readdirSync(new URL(`${name}/`, dir));
    return files.includes('pods.json') && files.includes('nodes.yaml');
  });
}

interface Fixture {
  readonly node: string;
  readonly payload: string;
  readonly metadata: ChangingMetadata;
}

function load(folder: string): Fixture {
  const payload = fixtureText(`kubelet/${folder}/stats-summary.json`);
  const node = (JSON.parse(payload) as { node: { nodeName: string } }).node.nodeName;
  const base = fixtureMetadata(folder, node);
  const sets = decodeSummary(JSON.parse(payload), { name: node });
  const pods: PodMeta[] = [];
  for (const set of sets) {
    if (set.type !== 'pod') continue;
    const pod = base.pod(set.labels[LABEL.namespaceName] ?? '', set.labels[LABEL.podName] ?? '');
    if (pod !== undefined) pods.push(pod);
  }
  return { node, payload, metadata: new ChangingMetadata(base, pods, [node]) };
}

/** One cycle of the fixture's node: freshly decoded (new objects, as each scrape gives), then its mark. */
function cycle(f: Fixture, n: number, edit?: (sets: MetricSet[]) => MetricSet[]): PipelineEvent[] {
  const sets = decodeSummary(JSON.parse(f.payload), { name: f.node });
  return [nodeBatch(f.node, n, edit === undefined ? sets : edit(sets)), cycleEnd(n, 1)];
}

/** Every label object of the output by set key, for identity checks. */
function labelsByKey(events: readonly PipelineEvent[]): Map<string, object> {
  const out = new Map<string, object>();
  for (const b of batches(events)) if (b.scope === 'node') for (const s of b.sets) out.set(s.key, s.labels);
  return out;
}

describe.each(fixturesWithMetadata())('enrichers keeping labels on %s', (folder) => {
  it('attach the same frozen labels in a steady cycle, equal to what fresh enrichers build', () => {
    const f = load(folder);
    const kept = driven(f.metadata);
    kept(cycle(f, 1));
    const second = labelsByKey(kept(cycle(f, 2)));
    const thirdEvents = kept(cycle(f, 3));
    const third = labelsByKey(thirdEvents);
    const enriched = batches(thirdEvents)[0]?.sets.filter(
      (s) => s.type === 'pod' || s.type === 'pod_container' || s.type === 'node',
    );
    expect(enriched?.length).toBeGreaterThan(0);
    for (const set of enriched ?? []) {
      expect(Object.isFrozen(set.labels), set.key).toBe(true);
      expect(third.get(set.key) === second.get(set.key), set.key).toBe(true);
    }
    const fresh = driven(f.metadata)(cycle(f, 3));
    expect(thirdEvents).toEqual(fresh);
    expect(ordered(thirdEvents)).toEqual(ordered(fresh));
  });

  it('rebuild what changed in the metadata or in the sets, and only that', () => {
    const f = load(folder);
    const kept = driven(f.metadata);
    kept(cycle(f, 1));
    const before = labelsByKey(kept(cycle(f, 2)));

    // Every other pod gets new labels, one pod a new owner resolved in place (as the metadata cache does when a
    // ReplicaSet arrives), the first namespace new labels and uid, the node new labels.
    const pods = [...f.metadata.pods.values()];
    pods.forEach((pod, i) => {
      if (i % 2 === 0) {
        f.metadata.pods.set(pod.namespace + '/' + pod.name, {
          ...pod,
          labels: { ...pod.labels, app: `changed-${i}` },
        });
      }
    });
    const inPlace = pods[1];
    if (inPlace !== undefined) {
      (inPlace as { owner?: PodMeta['owner'] }).owner = { kind: 'Deployment', name: 'resolved-later' };
    }
    const [nsName, ns] = [...f.metadata.namespaces][0] ?? [];
    if (nsName !== undefined && ns !== undefined) {
      f.metadata.namespaces.set(nsName, { ...ns, uid: 'new-uid', labels: { team: 'new-team' } });
    }
    const node = f.metadata.nodes.get(f.node);
    if (node !== undefined) {
      f.metadata.nodes.set(f.node, { ...node, labels: { ...node.labels, 'kubernetes.io/arch': 'riscv' } });
    }
    // The sets' own labels change too: a value, a label added, the last one removed, the same in another order.
    const editSets = (sets: MetricSet[]) =>
      sets.map((set, i): MetricSet => {
        const entries = Object.entries(set.labels);
        if (i % 5 === 1) return { ...set, labels: { ...set.labels, hostname: 'renamed-host' } };
        if (i % 5 === 2) return { ...set, labels: { ...set.labels, container_base_image: 'from-kubelet' } };
        if (i % 5 === 3) return { ...set, labels: Object.fromEntries(entries.reverse()) };
        if (i % 5 === 4) return { ...set, labels: Object.fromEntries(entries.slice(0, -1)) };
        return set;
      });

    const changedEvents = kept(cycle(f, 3, editSets));
    const fresh = driven(f.metadata)(cycle(f, 3, editSets));
    expect(changedEvents).toEqual(fresh);
    expect(ordered(changedEvents)).toEqual(ordered(fresh));

    const after = labelsByKey(changedEvents);
    const changedPod = pods[0];
    if (changedPod !== undefined) {
      const key = `namespace:${changedPod.namespace}/pod:${changedPod.name}`;
      expect(after.get(key)).not.toBe(before.get(key));
      expect((after.get(key) as Record<string, string>)[LABEL.labels]).toContain('app:changed-0');
    }
    if (inPlace !== undefined) {
      const key = `namespace:${inPlace.namespace}/pod:${inPlace.name}`;
      expect(after.get(key)).toMatchObject({ workload_kind: 'Deployment', workload_name: 'resolved-later' });
    }
    const nodeSet = batches(changedEvents)[0]?.sets.find((s) => s.type === 'node');
    expect(nodeSet?.labels.arch).toBe('riscv');
  });
});

it('finds every real fixture with pods and nodes', () => {
  expect(fixturesWithMetadata().length).toBeGreaterThanOrEqual(10);
});
