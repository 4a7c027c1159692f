/**
 * Metric set keys, built in one place so every component agrees (Heapster's ms_keys.go).
 *
 * @example
 * podContainerKey('default', 'web-1', 'app') // 'namespace:default/pod:web-1/container:app'
 */
export function nodeKey(node: string): string {
  return 'node:' + node;
}

export function sysContainerKey(node: string, container: string): string {
  return 'node:' + node + '/container:' + container;
}

export function podKey(namespace: string, pod: string): string {
  return 'namespace:' + namespace + '/pod:' + pod;
}

export function podContainerKey(namespace: string, pod: string, container: string): string {
  return 'namespace:' + namespace + '/pod:' + pod + '/container:' + container;
}

/** `cluster:<c>/namespace:<ns>` when the set belongs to a named cluster (`cluster_name`), else `namespace:<ns>`. */
export function namespaceKey(namespace: string, cluster?: string): string {
  return cluster === undefined ? 'namespace:' + namespace : 'cluster:' + cluster + '/namespace:' + namespace;
}

export const CLUSTER_KEY = 'cluster';

/** The cluster set's key: `cluster:<c>` for a named cluster (`cluster_name`), else `cluster`. */
export function clusterKey(cluster?: string): string {
  return cluster === undefined ? CLUSTER_KEY : 'cluster:' + cluster;
}
