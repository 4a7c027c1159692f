import type { SetType } from '../model/catalogue.js';
import { nodeKey, podContainerKey, podKey } from '../model/keys.js';
import type { Labels } from '../model/labels.js';
import type { LabeledValue, MetricSet } from '../model/types.js';
import { SetValues } from '../model/set-values.js';

/** What a test gives a set besides its identity; everything is optional. */
export interface SetInput {
  values?: Record<string, number>;
  labeled?: readonly LabeledValue[];
  /** Labels added to (or replacing) the identity labels the builder writes. */
  labels?: Record<string, string>;
  scrapeTime?: number;
  startTime?: number;
}

function makeSet(type: SetType, key: string, labels: Labels, input: SetInput): MetricSet {
  return {
    type,
    key,
    labels: { ...labels, type, ...input.labels },
    values: SetValues.from(input.values ?? {}),
    labeled: input.labeled ?? [],
    scrapeTime: input.scrapeTime ?? 0,
    startTime: input.startTime ?? 0,
  };
}

/**
 * A container's set, with the key and the labels a source gives it (`namespace_name`, `pod_name`,
 * `container_name`, `nodename`, `type`).
 *
 * @example
 * containerSet('prod', 'web-1', 'app', 'node-1', { values: { 'cpu/usage': 5e9 } })
 */
export function containerSet(
  ns: string,
  pod: string,
  container: string,
  node: string,
  input: SetInput = {},
): MetricSet {
  return makeSet(
    'pod_container',
    podContainerKey(ns, pod, container),
    { namespace_name: ns, pod_name: pod, container_name: container, nodename: node },
    input,
  );
}

/**
 * A pod's set, with its key and identity labels.
 *
 * @example
 * podSet('prod', 'web-1', 'node-1', { values: { 'memory/usage': 1024 } })
 */
export function podSet(ns: string, pod: string, node: string, input: SetInput = {}): MetricSet {
  return makeSet('pod', podKey(ns, pod), { namespace_name: ns, pod_name: pod, nodename: node }, input);
}

/**
 * A node's set, with its key and identity labels.
 *
 * @example
 * nodeSet('node-1', { values: { 'cpu/usage': 1e10 } })
 */
export function nodeSet(node: string, input: SetInput = {}): MetricSet {
  return makeSet('node', nodeKey(node), { nodename: node }, input);
}
