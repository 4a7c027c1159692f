/**
 * Helpers for the built-in processors' tests: a context, metric set builders, deep-freeze (to prove
 * that processors never mutate what they receive) and a way to push events through an operator synchronously.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import type { Telemetry } from '../../src/component/telemetry.js';
import { testContext as sharedTestContext } from '../../src/testing/context.js';
import {
  staticMetadata,
  type MetadataProvider,
  type NamespaceMeta,
  type NodeMeta,
  type PodMeta,
} from '../../src/component/metadata.js';
import { resourceList } from '../../src/model/quantity.js';
import type { SetType } from '../../src/model/catalogue.js';
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import type { Labels } from '../../src/model/labels.js';
import type {
  ClusterBatch,
  CycleEnd,
  LabeledValue,
  MetricBatch,
  MetricSet,
  NodeBatch,
  NodeFailure,
  PipelineEvent,
} from '../../src/model/types.js';

/** The shared test context (src/testing), with a processor's id. */
export function testContext(
  overrides: { metadata?: MetadataProvider; resolutionMs?: number; id?: string } = {},
): ComponentContext & { telemetry: Telemetry } {
  return sharedTestContext({
    id: overrides.id ?? 'test_processor',
    baseDir: '.',
    ...(overrides.metadata === undefined ? {} : { metadata: overrides.metadata }),
    ...(overrides.resolutionMs === undefined ? {} : { resolutionMs: overrides.resolutionMs }),
  });
}

/** Freezes an object and everything reachable from it, so that any mutation by a processor throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

export interface SetInput {
  values?: Record<string, number>;
  labeled?: readonly LabeledValue[];
  labels?: Record<string, string>;
  scrapeTime?: number;
  startTime?: number;
}

function makeSet(type: SetType, key: string, labels: Labels, input: SetInput): MetricSet {
  return {
    type,
    key,
    labels: { ...labels, type, ...input.labels },
    values: input.values ?? {},
    labeled: input.labeled ?? [],
    scrapeTime: input.scrapeTime ?? 0,
    startTime: input.startTime ?? 0,
  };
}

export function containerSet(ns: string, pod: string, container: string, node: string, input: SetInput = {}) {
  return makeSet(
    'pod_container',
    podContainerKey(ns, pod, container),
    { namespace_name: ns, pod_name: pod, container_name: container, nodename: node },
    input,
  );
}

export function podSet(ns: string, pod: string, node: string, input: SetInput = {}) {
  return makeSet('pod', podKey(ns, pod), { namespace_name: ns, pod_name: pod, nodename: node }, input);
}

export function nodeSet(node: string, input: SetInput = {}) {
  return makeSet('node', nodeKey(node), { nodename: node }, input);
}

export function sysContainerSet(node: string, container: string, input: SetInput = {}) {
  return makeSet(
    'sys_container',
    sysContainerKey(node, container),
    { nodename: node, container_name: container },
    input,
  );
}

export function nodeBatch(
  node: string,
  cycle: number,
  sets: MetricSet[],
  timestamp = cycle * 15_000,
): NodeBatch {
  return { kind: 'batch', scope: 'node', node, cycle, timestamp, sets };
}

export function cycleEnd(
  cycle: number,
  nodesExpected: number,
  failures: NodeFailure[] = [],
  timestamp = cycle * 15_000,
): CycleEnd {
  return {
    kind: 'cycle_end',
    cycle,
    timestamp,
    nodesExpected,
    nodesAnswered: nodesExpected - failures.length,
    failures,
    durationMs: 10,
  };
}

/** Runs events (deep-frozen first) through an operator and collects everything it emits. */
export async function run(
  operator: OperatorFunction<PipelineEvent, PipelineEvent>,
  events: PipelineEvent[],
): Promise<PipelineEvent[]> {
  for (const e of events) deepFreeze(e);
  return lastValueFrom(from(events).pipe(operator, toArray()));
}

export function batchesOf(events: readonly PipelineEvent[]): MetricBatch[] {
  return events.filter((e): e is MetricBatch => e.kind === 'batch');
}

export function clusterBatchesOf(events: readonly PipelineEvent[]): ClusterBatch[] {
  return events.filter((e): e is ClusterBatch => e.kind === 'batch' && e.scope === 'cluster');
}

/** The set with `key` in a batch; throws (failing the test) when it is absent. */
export function setByKey(batch: MetricBatch | undefined, key: string): MetricSet {
  const set = batch?.sets.find((s) => s.key === key);
  if (set === undefined) throw new Error(`no set ${key} in batch`);
  return set;
}

/** A labeled value by name and resource_id. */
export function labeledValue(set: MetricSet, name: string, resourceId: string): number | undefined {
  return set.labeled.find((l) => l.name === name && l.labels.resource_id === resourceId)?.value;
}

/** Reads a file of the shared fixtures (`../shared/fixtures` beside the repository). */
export function fixtureText(path: string): string {
  return readFileSync(new URL(`../../../shared/fixtures/${path}`, import.meta.url), 'utf8');
}

/** Reads a file of Heapster's golden outputs (`../shared/reference/heapster-golden`). */
export function goldenPoints(fixture: string): GoldenPoint[] {
  const text = readFileSync(
    new URL(`../../../shared/reference/heapster-golden/${fixture}/points.jsonl`, import.meta.url),
    'utf8',
  );
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GoldenPoint);
}

export interface GoldenPoint {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly value: number;
}

interface PodJson {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: {
    containers: { name: string; image?: string; resources?: { requests?: unknown; limits?: unknown } }[];
  };
  status?: { startTime?: string; containerStatuses?: { name: string; restartCount?: number }[] };
}

/** PodMeta from a Kubernetes Pod object (as the metadata cache would build it; owner not resolved further). */
export function podMetaFromJson(pod: PodJson, nodeName: string): PodMeta {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller === true);
  const restartCounts: Record<string, number> = {};
  for (const s of pod.status?.containerStatuses ?? []) restartCounts[s.name] = s.restartCount ?? 0;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    nodeName,
    labels: pod.metadata.labels ?? {},
    ...(pod.status?.startTime === undefined ? {} : { startTime: Date.parse(pod.status.startTime) }),
    containers: pod.spec.containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      requests: resourceList(c.resources?.requests),
      limits: resourceList(c.resources?.limits),
    })),
    restartCounts,
    ...(owner === undefined ? {} : { owner: { kind: owner.kind, name: owner.name } }),
  };
}

/** Metadata for one real fixture folder: its pods.json and nodes.yaml, namespaces with uid `uid-<name>`. */
export function fixtureMetadata(folder: string, nodeName: string): MetadataProvider {
  const pods = (JSON.parse(fixtureText(`kubelet/${folder}/pods.json`)) as { items: PodJson[] }).items.map(
    (p) => podMetaFromJson(p, nodeName),
  );
  const nodesDoc = parseYaml(fixtureText(`kubelet/${folder}/nodes.yaml`)) as {
    items: {
      metadata: { name: string; labels?: Record<string, string> };
      status?: { capacity?: unknown; allocatable?: unknown };
    }[];
  };
  const nodes: NodeMeta[] = nodesDoc.items.map((n) => ({
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
    capacity: resourceList(n.status?.capacity),
    allocatable: resourceList(n.status?.allocatable),
  }));
  const namespaces: NamespaceMeta[] = [...new Set(pods.map((p) => p.namespace))].map((name) => ({
    name,
    uid: `uid-${name}`,
    labels: { team: `team-${name}` },
  }));
  return staticMetadata({ pods, nodes, namespaces });
}
