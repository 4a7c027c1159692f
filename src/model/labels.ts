/**
 * Label names, as Heapster named them (core/labels.go). Sinks and processors use these constants so that
 * a typo is a compile error, not a silently missing tag.
 */
export const LABEL = {
  type: 'type',
  nodename: 'nodename',
  hostname: 'hostname',
  hostId: 'host_id',
  podId: 'pod_id',
  podName: 'pod_name',
  namespaceName: 'namespace_name',
  namespaceId: 'namespace_id',
  containerName: 'container_name',
  containerBaseImage: 'container_base_image',
  labels: 'labels',
  resourceId: 'resource_id',
  make: 'make',
  model: 'model',
  acceleratorId: 'accelerator_id',
  workloadKind: 'workload_kind',
  workloadName: 'workload_name',
  /** The pipeline's `cluster_name` (not a Heapster label): tells apart the clusters one second tier serves. */
  clusterName: 'cluster_name',
} as const;

export type Labels = Readonly<Record<string, string>>;

/**
 * Whether `labels` has exactly the names `names` of `known`, in that order, with the same values. Order
 * counts: encoders write labels in their order (JSON) or sort them, and the same order is the common case.
 *
 * @example
 * sameLabels(['a'], { a: 'x' }, { a: 'x' }) // true
 */
export function sameLabels(names: readonly string[], known: Labels, labels: Labels): boolean {
  let i = 0;
  for (const name in labels) {
    if (name !== names[i] || labels[name] !== known[name]) return false;
    i++;
  }
  return i === names.length;
}
