import { randomUUID } from 'node:crypto';

/** A Kubernetes object as JSON: what the fake API server stores and sends. */
export type ApiObject = { metadata: ObjectMeta } & Record<string, unknown>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean }[];
  creationTimestamp?: string;
}

export interface NodeSpec {
  readonly name: string;
  readonly address: string;
  /** Advertised in status.daemonEndpoints.kubeletEndpoint.Port. */
  readonly port: number;
  readonly ready?: boolean;
  readonly labels?: Record<string, string>;
  /** Extra or replacement addresses; default InternalIP = address, Hostname = name. */
  readonly addresses?: readonly { type: string; address: string }[];
  readonly capacity?: Record<string, string>;
  readonly allocatable?: Record<string, string>;
  readonly providerID?: string;
}

/**
 * A Node object as the API server returns it.
 *
 * @example
 * nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }).status.daemonEndpoints.kubeletEndpoint.Port; // 10250
 */
export function nodeObject(spec: NodeSpec) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      uid: randomUUID(),
      labels: { 'kubernetes.io/hostname': spec.name, ...spec.labels },
    },
    spec: spec.providerID === undefined ? {} : { providerID: spec.providerID },
    status: {
      addresses: spec.addresses ?? [
        { type: 'InternalIP', address: spec.address },
        { type: 'Hostname', address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: spec.port } },
      conditions: [
        { type: 'Ready', status: spec.ready === false ? 'False' : 'True', reason: 'KubeletReady' },
      ],
      capacity: spec.capacity ?? { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      allocatable: spec.allocatable ?? {
        cpu: '3800m',
        memory: '15Gi',
        pods: '110',
        'ephemeral-storage': '90Gi',
      },
    },
  } satisfies ApiObject;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly requests?: Record<string, string>;
  readonly limits?: Record<string, string>;
  readonly restarts?: number;
}

export interface PodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly uid?: string;
  readonly labels?: Record<string, string>;
  /** The pod's controller, e.g. `{ kind: 'ReplicaSet', name: 'web-5d8f7c6b9' }`. */
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly containers: readonly ContainerSpec[];
  readonly startTime?: string;
}

/** A Pod object with the fields a real one has where heapstream reads them. */
export function podObject(spec: PodSpec) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid ?? randomUUID(),
      labels: { ...spec.labels },
      ...(spec.owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: spec.owner.kind,
                name: spec.owner.name,
                uid: randomUUID(),
                controller: true,
              },
            ],
          }),
    },
    spec: {
      nodeName: spec.nodeName,
      containers: spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        resources: {
          ...(c.requests ? { requests: c.requests } : {}),
          ...(c.limits ? { limits: c.limits } : {}),
        },
      })),
    },
    status: {
      phase: 'Running',
      startTime: spec.startTime ?? '2024-01-01T00:00:00Z',
      containerStatuses: spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        restartCount: c.restarts ?? 0,
        ready: true,
      })),
    },
  } satisfies ApiObject;
}

export function namespaceObject(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: randomUUID(), labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  } satisfies ApiObject;
}

/** A ReplicaSet or Job owned by a Deployment or CronJob (or by nothing). */
export function controllerObject(
  kind: 'ReplicaSet' | 'Job',
  namespace: string,
  name: string,
  owner?: { kind: string; name: string },
) {
  return {
    apiVersion: kind === 'ReplicaSet' ? 'apps/v1' : 'batch/v1',
    kind,
    metadata: {
      name,
      namespace,
      uid: randomUUID(),
      ...(owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: owner.kind,
                name: owner.name,
                uid: randomUUID(),
                controller: true,
              },
            ],
          }),
    },
  } satisfies ApiObject;
}
