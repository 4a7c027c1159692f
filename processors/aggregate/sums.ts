/**
 * Which metrics each aggregation level sums, following Heapster (`metrics/heapster.go`, `processors/*_aggregator.go`).
 */
import { nodeKey, podKey } from '../../src/model/keys.js';
import { LABEL } from '../../src/model/labels.js';
import type { MetricSet } from '../../src/model/types.js';
import { copyRecord, copyRecordWith } from '../../src/model/copy.js';

/** Cumulative counters a pod never gets from its containers: a sum of counters that reset separately is no counter. */
export const POD_SKIPPED: ReadonlySet<string> = new Set([
  'uptime',
  'cpu/usage',
  'memory/page_faults',
  'memory/major_page_faults',
  'network/rx',
  'network/rx_errors',
  'network/tx',
  'network/tx_errors',
]);

/** Summed over a node's pods into its node set. */
export const NODE_SUMS: readonly string[] = [
  'cpu/request',
  'cpu/limit',
  'memory/request',
  'memory/limit',
  'ephemeral_storage/request',
  'ephemeral_storage/limit',
];

/** Summed over pods into namespaces, and over namespaces into the cluster. */
export const CLUSTER_SUMS: readonly string[] = [
  'cpu/usage_rate',
  'memory/usage',
  'cpu/request',
  'cpu/limit',
  'memory/request',
  'memory/limit',
];

/** Values on namespace and cluster sets saying how complete the cycle's sums are. */
export const NODES_REPORTING = 'nodes_reporting';
export const NODES_EXPECTED = 'nodes_expected';

/** Labels a pod set created from its containers takes from the first container. */
const POD_LABELS = [
  LABEL.podId,
  LABEL.podName,
  LABEL.namespaceName,
  LABEL.namespaceId,
  LABEL.nodename,
  LABEL.hostname,
  LABEL.hostId,
  LABEL.labels,
  LABEL.workloadKind,
  LABEL.workloadName,
] as const;

export function podLabelsFrom(container: MetricSet): Record<string, string> {
  const labels: Record<string, string> = { [LABEL.type]: 'pod' };
  for (const name of POD_LABELS) {
    const value = container.labels[name];
    if (value !== undefined) labels[name] = value;
  }
  return labels;
}

interface PodSums {
  /** Index of the pod set in the output, or -1 when the pod set is created. */
  readonly index: number;
  readonly first: MetricSet;
  readonly sums: Record<string, number>;
  any: boolean;
  scrapeTime: number;
}

/**
 * Pod sets from their containers (Heapster's pod aggregator): every container value is summed into its pod,
 * except the cumulative counters of `POD_SKIPPED` and labeled values; a value the pod already has is kept, not
 * summed. Pods without a set get one. Returns `sets` itself when nothing changes.
 */
export function aggregatePods(sets: readonly MetricSet[]): readonly MetricSet[] {
  let pods: Map<string, PodSums> | undefined;
  let podIndex: Map<string, number> | undefined;
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i] as MetricSet;
    if (set.type === 'pod') (podIndex ??= new Map()).set(set.key, i);
  }
  for (const set of sets) {
    if (set.type !== 'pod_container') continue;
    const ns = set.labels[LABEL.namespaceName];
    const pod = set.labels[LABEL.podName];
    if (ns === undefined || pod === undefined) continue;
    const key = podKey(ns, pod);
    pods ??= new Map();
    let acc = pods.get(key);
    if (acc === undefined) {
      acc = { index: podIndex?.get(key) ?? -1, first: set, sums: {}, any: false, scrapeTime: 0 };
      pods.set(key, acc);
    }
    const existing = acc.index >= 0 ? (sets[acc.index] as MetricSet).values : undefined;
    const values = set.values;
    for (const name in values) {
      if (POD_SKIPPED.has(name) || (existing !== undefined && name in existing)) continue;
      acc.sums[name] = (acc.sums[name] ?? 0) + (values[name] as number);
      acc.any = true;
    }
    if (set.scrapeTime > acc.scrapeTime) acc.scrapeTime = set.scrapeTime;
  }
  if (pods === undefined) return sets;

  let out: MetricSet[] | undefined;
  for (const [key, acc] of pods) {
    if (acc.index >= 0) {
      if (!acc.any) continue;
      out ??= sets.slice();
      const pod = sets[acc.index] as MetricSet;
      out[acc.index] = { ...pod, values: copyRecordWith(pod.values, acc.sums) };
    } else {
      out ??= sets.slice();
      out.push({
        type: 'pod',
        key,
        labels: podLabelsFrom(acc.first),
        values: acc.sums,
        labeled: [],
        scrapeTime: acc.scrapeTime,
        startTime: 0,
      });
    }
  }
  return out ?? sets;
}

/**
 * The node's pod requests and limits (`NODE_SUMS`) into the node's own set (Heapster's node aggregator). The node
 * set is never created; sums replace any value of the same name, so running twice gives the same result.
 */
export function aggregateNode(sets: readonly MetricSet[], node: string): readonly MetricSet[] {
  const key = nodeKey(node);
  const nodeIndex = sets.findIndex((s) => s.type === 'node' && s.key === key);
  if (nodeIndex < 0) return sets;
  const sums = new Float64Array(NODE_SUMS.length);
  const present = new Uint8Array(NODE_SUMS.length);
  let any = false;
  for (const set of sets) {
    if (set.type !== 'pod') continue;
    for (let m = 0; m < NODE_SUMS.length; m++) {
      const v = set.values[NODE_SUMS[m] as string];
      if (v === undefined) continue;
      sums[m] = (sums[m] as number) + v;
      present[m] = 1;
      any = true;
    }
  }
  if (!any) return sets;
  const nodeSet = sets[nodeIndex] as MetricSet;
  const values = copyRecord(nodeSet.values);
  for (let m = 0; m < NODE_SUMS.length; m++)
    if (present[m] === 1) values[NODE_SUMS[m] as string] = sums[m] as number;
  const out = sets.slice();
  out[nodeIndex] = { ...nodeSet, values };
  return out;
}

/** One node's pods, summed per namespace: what a node contributes to its cycle's namespace and cluster sets. */
export interface NamespacePartial {
  readonly sums: Float64Array;
  readonly present: Uint8Array;
  namespaceId: string | undefined;
}

export function namespacePartials(sets: readonly MetricSet[]): Map<string, NamespacePartial> {
  const partials = new Map<string, NamespacePartial>();
  for (const set of sets) {
    if (set.type !== 'pod') continue;
    const ns = set.labels[LABEL.namespaceName];
    if (ns === undefined) continue;
    let p = partials.get(ns);
    if (p === undefined) {
      p = {
        sums: new Float64Array(CLUSTER_SUMS.length),
        present: new Uint8Array(CLUSTER_SUMS.length),
        namespaceId: undefined,
      };
      partials.set(ns, p);
    }
    p.namespaceId ??= set.labels[LABEL.namespaceId];
    addValues(p, set.values);
  }
  return partials;
}

function addValues(p: NamespacePartial, values: Readonly<Record<string, number>>): void {
  for (let m = 0; m < CLUSTER_SUMS.length; m++) {
    const v = values[CLUSTER_SUMS[m] as string];
    if (v === undefined) continue;
    p.sums[m] = (p.sums[m] as number) + v;
    p.present[m] = 1;
  }
}

/** Adds `from` into `into` (both over `CLUSTER_SUMS`). */
export function mergePartial(into: NamespacePartial, from: NamespacePartial): void {
  for (let m = 0; m < CLUSTER_SUMS.length; m++) {
    if (from.present[m] !== 1) continue;
    into.sums[m] = (into.sums[m] as number) + (from.sums[m] as number);
    into.present[m] = 1;
  }
  into.namespaceId ??= from.namespaceId;
}

export function emptyPartial(): NamespacePartial {
  return {
    sums: new Float64Array(CLUSTER_SUMS.length),
    present: new Uint8Array(CLUSTER_SUMS.length),
    namespaceId: undefined,
  };
}

/** The values of a partial, plus how many nodes reported of how many were expected. */
export function partialValues(
  p: NamespacePartial,
  reporting: number,
  expected: number,
): Record<string, number> {
  const values: Record<string, number> = {};
  for (let m = 0; m < CLUSTER_SUMS.length; m++) {
    if (p.present[m] === 1) values[CLUSTER_SUMS[m] as string] = p.sums[m] as number;
  }
  values[NODES_REPORTING] = reporting;
  values[NODES_EXPECTED] = expected;
  return values;
}
