import type {
  ContainerSpecMeta,
  MetadataProvider,
  NamespaceMeta,
  NodeMeta,
  PodMeta,
} from '../component/metadata.js';
import { resourceList } from '../model/quantity.js';
import type { KubeObject, ReflectorStore } from './reflector.js';
import { SharedPool, StringInterner } from './shared-pool.js';

type Labels = Readonly<Record<string, string>>;
interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

/** How a pod's controller is turned into its workload. */
export type OwnerResolution = 'name' | 'watch';

/**
 * A pod as the cache holds it: only what enrichers read. Its fields are shared with other pods where equal
 * (labels, containers, restart counts, owner), and `owner` is re-resolved when ReplicaSets or Jobs change.
 */
interface CachedPod {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  labels: Labels;
  // Always present (possibly undefined), so every pod has one hidden class with in-object fields.
  startTime: number | undefined;
  containers: readonly ContainerSpecMeta[];
  restartCounts: Readonly<Record<string, number>>;
  owner: OwnerRef | undefined;
  /** The pod's own controller reference (ReplicaSet, Job, StatefulSet…), before resolution. */
  controller: OwnerRef | undefined;
  /** The owners generation `owner` was resolved at. */
  resolvedAt: number;
}

const NO_LABELS: Labels = Object.freeze({});

/**
 * The Kubernetes metadata enrichers read, kept up to date by reflectors over pods, namespaces, nodes (and
 * ReplicaSets and Jobs with `owners: watch`). It keeps only the fields of PodMeta, NamespaceMeta and NodeMeta,
 * parsed (quantities in millicores and bytes) and shared between pods where equal — never whole objects.
 *
 * @example
 * const cache = new MetadataCache('name');
 * new Reflector({ api, path: '/api/v1/pods', store: cache.pods, clock, logger });
 * cache.pod('default', 'web-7d4b9c-x2x9z')?.owner; // { kind: 'Deployment', name: 'web' }
 */
export class MetadataCache implements MetadataProvider {
  private readonly podsByNamespace = new Map<string, Map<string, CachedPod>>();
  private readonly namespaces = new Map<string, NamespaceMeta>();
  private readonly nodes = new Map<string, NodeMeta>();
  /** namespace → ReplicaSet name → its Deployment, or null if it has no controller. */
  private readonly replicaSets = new Map<string, Map<string, OwnerRef | null>>();
  /** namespace → Job name → its CronJob, or null. */
  private readonly jobs = new Map<string, Map<string, OwnerRef | null>>();
  private ownersGeneration = 0;
  /** Naming-rule results per shared controller ref, so pods of one ReplicaSet share one owner object. */
  private readonly namedOwners = new WeakMap<OwnerRef, OwnerRef | null>();
  private podCount = 0;

  private readonly strings = new StringInterner();
  private readonly labelPool = new SharedPool<Labels>();
  private readonly containerPool = new SharedPool<readonly ContainerSpecMeta[]>();
  private readonly restartPool = new SharedPool<Readonly<Record<string, number>>>();
  private readonly ownerPool = new SharedPool<OwnerRef>();

  constructor(private readonly owners: OwnerResolution = 'name') {}

  /** Reflector store for `/api/v1/pods`. */
  readonly pods: ReflectorStore = {
    retain: (keys) => {
      for (const [ns, byName] of this.podsByNamespace) {
        for (const pod of byName.values()) {
          if (!keys.has(`${ns}/${pod.name}`)) this.deletePod(ns, pod.name);
        }
      }
    },
    upsert: (item) => this.upsertPod(item),
    remove: (item) => {
      const meta = metadataOf(item);
      this.deletePod(meta.namespace, meta.name);
    },
  };

  /** Reflector store for `/api/v1/namespaces`. */
  readonly namespaceStore: ReflectorStore = {
    retain: (keys) => retainKeys(this.namespaces, keys),
    upsert: (item) => this.upsertNamespace(item),
    remove: (item) => void this.namespaces.delete(metadataOf(item).name),
  };

  /** Reflector store for `/api/v1/nodes` (discovery feeds it from its own node watch). */
  readonly nodeStore: ReflectorStore = {
    retain: (keys) => retainKeys(this.nodes, keys),
    upsert: (item) => this.upsertNode(item),
    remove: (item) => void this.nodes.delete(metadataOf(item).name),
  };

  /** Reflector store for `/apis/apps/v1/replicasets` (`owners: watch`): each one's Deployment. */
  readonly replicaSetStore: ReflectorStore = this.controllerStore(this.replicaSets);

  /** Reflector store for `/apis/batch/v1/jobs` (`owners: watch`): each one's CronJob. */
  readonly jobStore: ReflectorStore = this.controllerStore(this.jobs);

  pod(namespace: string, name: string): PodMeta | undefined {
    const pod = this.podsByNamespace.get(namespace)?.get(name);
    if (pod === undefined) return undefined;
    if (pod.resolvedAt !== this.ownersGeneration) this.resolveOwner(pod);
    // An absent owner or start time is an undefined field here rather than a missing key (one hidden class for
    // every pod); readers test for undefined.
    return pod as unknown as PodMeta;
  }

  namespace(name: string): NamespaceMeta | undefined {
    return this.namespaces.get(name);
  }

  node(name: string): NodeMeta | undefined {
    return this.nodes.get(name);
  }

  /** Counts, for status lines and the memory measurement. */
  stats(): {
    pods: number;
    namespaces: number;
    nodes: number;
    sharedLabelSets: number;
    sharedContainerLists: number;
  } {
    return {
      pods: this.podCount,
      namespaces: this.namespaces.size,
      nodes: this.nodes.size,
      sharedLabelSets: this.labelPool.size,
      sharedContainerLists: this.containerPool.size,
    };
  }

  private upsertPod(item: KubeObject): void {
    const meta = metadataOf(item);
    const spec = (item.spec ?? {}) as { nodeName?: string; containers?: RawContainer[] };
    const status = (item.status ?? {}) as {
      startTime?: string;
      containerStatuses?: { name?: string; restartCount?: number }[];
    };
    this.deletePod(meta.namespace, meta.name);
    const namespace = this.strings.intern(meta.namespace);
    const started = status.startTime === undefined ? NaN : Date.parse(status.startTime);
    const pod: CachedPod = {
      namespace,
      name: meta.name,
      uid: meta.uid,
      startTime: Number.isNaN(started) ? undefined : started,
      owner: undefined,
      nodeName: this.strings.intern(spec.nodeName ?? ''),
      labels: this.shareLabels(meta.labels),
      containers: this.shareContainers(spec.containers ?? []),
      restartCounts: this.shareRestarts(status.containerStatuses ?? []),
      controller: this.shareOwner(namespace, controllerOf(meta.ownerReferences)),
      resolvedAt: -1,
    };
    let byName = this.podsByNamespace.get(namespace);
    if (byName === undefined) {
      byName = new Map();
      this.podsByNamespace.set(namespace, byName);
    }
    byName.set(pod.name, pod);
    this.podCount++;
  }

  private deletePod(namespace: string, name: string): void {
    const byName = this.podsByNamespace.get(namespace);
    const pod = byName?.get(name);
    if (byName === undefined || pod === undefined) return;
    byName.delete(name);
    if (byName.size === 0) this.podsByNamespace.delete(namespace);
    this.podCount--;
    this.labelPool.release(pod.labels);
    this.containerPool.release(pod.containers);
    this.restartPool.release(pod.restartCounts);
    if (pod.controller !== undefined) this.ownerPool.release(pod.controller);
  }

  /** ReplicaSet → Deployment and Job → CronJob, by the watched objects or by the controllers' naming rules. */
  private resolveOwner(pod: CachedPod): void {
    pod.resolvedAt = this.ownersGeneration;
    const ref = pod.controller;
    if (ref === undefined) {
      pod.owner = undefined;
      return;
    }
    let owner: OwnerRef | undefined = ref;
    if (ref.kind === 'ReplicaSet' || ref.kind === 'Job') {
      const controllers = ref.kind === 'ReplicaSet' ? this.replicaSets : this.jobs;
      const watched = this.owners === 'watch' ? controllers.get(pod.namespace)?.get(ref.name) : undefined;
      if (watched !== undefined) owner = watched ?? ref;
      else owner = this.ownerByName(ref, pod.labels) ?? ref;
    }
    pod.owner = owner;
  }

  private ownerByName(ref: OwnerRef, labels: Labels): OwnerRef | undefined {
    let owner = this.namedOwners.get(ref);
    if (owner === undefined) {
      owner = byNamingRule(ref, labels) ?? null;
      this.namedOwners.set(ref, owner);
    }
    return owner ?? undefined;
  }

  private upsertNamespace(item: KubeObject): void {
    const meta = metadataOf(item);
    this.namespaces.set(meta.name, {
      name: this.strings.intern(meta.name),
      uid: meta.uid,
      labels: freezeLabels(meta.labels),
    });
  }

  private upsertNode(item: KubeObject): void {
    const meta = metadataOf(item);
    const status = (item.status ?? {}) as { capacity?: unknown; allocatable?: unknown };
    this.nodes.set(meta.name, {
      name: this.strings.intern(meta.name),
      labels: freezeLabels(meta.labels),
      capacity: Object.freeze(resourceList(status.capacity)),
      allocatable: Object.freeze(resourceList(status.allocatable)),
    });
  }

  private controllerStore(controllers: Map<string, Map<string, OwnerRef | null>>): ReflectorStore {
    const upsert = (item: KubeObject) => {
      const meta = metadataOf(item);
      let byName = controllers.get(meta.namespace);
      if (byName === undefined) {
        byName = new Map();
        controllers.set(meta.namespace, byName);
      }
      const owner = controllerOf(meta.ownerReferences);
      byName.set(meta.name, owner === undefined ? null : Object.freeze(owner));
    };
    return {
      retain: (keys) => {
        for (const [ns, byName] of controllers) {
          for (const name of byName.keys()) if (!keys.has(`${ns}/${name}`)) byName.delete(name);
        }
        this.ownersGeneration++;
      },
      upsert: (item) => {
        upsert(item);
        this.ownersGeneration++;
      },
      remove: (item) => {
        const meta = metadataOf(item);
        controllers.get(meta.namespace)?.delete(meta.name);
        this.ownersGeneration++;
      },
    };
  }

  private shareLabels(labels: Record<string, string> | undefined): Labels {
    if (labels === undefined) return NO_LABELS;
    const keys = Object.keys(labels).sort();
    if (keys.length === 0) return NO_LABELS;
    let key = '';
    for (const k of keys) key += k + '\u0000' + labels[k] + '\u0001';
    return this.labelPool.acquire(key, () => {
      const shared: Record<string, string> = {};
      for (const k of keys) shared[this.strings.intern(k)] = labels[k] ?? '';
      return Object.freeze(shared);
    });
  }

  private shareContainers(raw: readonly RawContainer[]): readonly ContainerSpecMeta[] {
    let key = '';
    for (const c of raw) {
      key += `${c.name ?? ''}\u0000${c.image ?? ''}\u0000${resourceKey(c.resources?.requests)}\u0000`;
      key += `${resourceKey(c.resources?.limits)}\u0001`;
    }
    return this.containerPool.acquire(key, () =>
      Object.freeze(
        raw.map((c) =>
          Object.freeze({
            name: this.strings.intern(c.name ?? ''),
            image: this.strings.intern(c.image ?? ''),
            requests: Object.freeze(resourceList(c.resources?.requests)),
            limits: Object.freeze(resourceList(c.resources?.limits)),
          }),
        ),
      ),
    );
  }

  private shareRestarts(statuses: readonly { name?: string; restartCount?: number }[]) {
    let key = '';
    for (const s of statuses) key += `${s.name ?? ''}=${s.restartCount ?? 0},`;
    return this.restartPool.acquire(key, () => {
      const counts: Record<string, number> = {};
      for (const s of statuses) counts[this.strings.intern(s.name ?? '')] = s.restartCount ?? 0;
      return Object.freeze(counts);
    });
  }

  private shareOwner(namespace: string, ref: OwnerRef | undefined): OwnerRef | undefined {
    if (ref === undefined) return undefined;
    return this.ownerPool.acquire(`${namespace}\u0000${ref.kind}\u0000${ref.name}`, () =>
      Object.freeze({ kind: this.strings.intern(ref.kind), name: ref.name }),
    );
  }
}

interface RawContainer {
  name?: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

interface RawMeta {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string> | undefined;
  ownerReferences: { kind?: string; name?: string; controller?: boolean }[] | undefined;
}

function metadataOf(item: KubeObject): RawMeta {
  const meta = (item.metadata ?? {}) as Partial<RawMeta>;
  return {
    name: meta.name ?? '',
    namespace: meta.namespace ?? '',
    uid: meta.uid ?? '',
    labels: meta.labels,
    ownerReferences: meta.ownerReferences,
  };
}

function controllerOf(refs: RawMeta['ownerReferences']): OwnerRef | undefined {
  if (refs === undefined || refs.length === 0) return undefined;
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  if (ref?.kind === undefined || ref.name === undefined) return undefined;
  return { kind: ref.kind, name: ref.name };
}

function retainKeys(map: Map<string, unknown>, keys: ReadonlySet<string>): void {
  for (const name of map.keys()) if (!keys.has(name)) map.delete(name);
}

function freezeLabels(labels: Record<string, string> | undefined): Labels {
  return labels === undefined ? NO_LABELS : Object.freeze({ ...labels });
}

function resourceKey(list: Record<string, unknown> | undefined): string {
  if (list === undefined) return '';
  let key = '';
  for (const k of Object.keys(list)) key += `${k}=${String(list[k])};`;
  return key;
}

/** A CronJob's Job is `<cronjob>-<scheduled minutes>`; a Deployment's ReplicaSet is `<deployment>-<hash>`. */
const CRONJOB_JOB = /^(.+)-\d{8,}$/;

function byNamingRule(ref: OwnerRef, labels: Labels): OwnerRef | undefined {
  if (ref.kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash !== undefined && hash !== '' && ref.name.endsWith('-' + hash)) {
      return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
    }
    return undefined;
  }
  const match = CRONJOB_JOB.exec(ref.name);
  return match?.[1] === undefined ? undefined : { kind: 'CronJob', name: match[1] };
}
