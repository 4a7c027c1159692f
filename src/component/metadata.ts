/**
 * What enrichers know about the cluster's objects. The Kubernetes list/watch cache implements it, and so does
 * the simulator; tests can build one from plain objects with `staticMetadata`.
 */
export interface ContainerSpecMeta {
  readonly name: string;
  readonly image: string;
  /** Resource name → quantity: cpu in millicores, memory and ephemeral-storage in bytes, others as counts. */
  readonly requests: Readonly<Record<string, number>>;
  readonly limits: Readonly<Record<string, number>>;
}

export interface PodMeta {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startTime?: number;
  readonly containers: readonly ContainerSpecMeta[];
  /** Container name → restart count, from the pod status. */
  readonly restartCounts: Readonly<Record<string, number>>;
  /** The workload that owns the pod, resolved through ReplicaSet → Deployment and Job → CronJob. */
  readonly owner?: { readonly kind: string; readonly name: string };
}

export interface NamespaceMeta {
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodeMeta {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Resource name → quantity in the same units as ContainerSpecMeta. */
  readonly capacity: Readonly<Record<string, number>>;
  readonly allocatable: Readonly<Record<string, number>>;
}

export interface MetadataProvider {
  pod(namespace: string, name: string): PodMeta | undefined;
  namespace(name: string): NamespaceMeta | undefined;
  node(name: string): NodeMeta | undefined;
}

/** Metadata that never changes, from plain objects: for tests and for pipelines without an API server. */
export function staticMetadata(input: {
  pods?: readonly PodMeta[];
  namespaces?: readonly NamespaceMeta[];
  nodes?: readonly NodeMeta[];
}): MetadataProvider {
  const pods = new Map((input.pods ?? []).map((p) => [p.namespace + '/' + p.name, p]));
  const namespaces = new Map((input.namespaces ?? []).map((n) => [n.name, n]));
  const nodes = new Map((input.nodes ?? []).map((n) => [n.name, n]));
  return {
    pod: (ns, name) => pods.get(ns + '/' + name),
    namespace: (name) => namespaces.get(name),
    node: (name) => nodes.get(name),
  };
}

/** The provider used when no metadata source is configured: enrichers then leave sets as they are. */
export const NO_METADATA: MetadataProvider = staticMetadata({});
