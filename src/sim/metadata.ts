import type {
  ContainerSpecMeta,
  MetadataProvider,
  NamespaceMeta,
  NodeMeta,
  PodMeta,
} from '../component/metadata.js';
import type { Layout } from './layout.js';
import type { NodeState } from './node-state.js';
import { resourceList } from '../model/quantity.js';
import { seededRandom, seededUuid } from './random.js';
import type { KubeletTemplate, PodJson } from './template.js';

/** What does not change between nodes built from the same template pod. */
interface PodTemplateMeta {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startTime?: number;
  readonly containers: readonly ContainerSpecMeta[];
  readonly initialRestarts: Readonly<Record<string, number>>;
  readonly owner?: { readonly kind: string; readonly name: string };
}

/**
 * The simulated cluster seen from an API server: pods (with the template's requests and limits, renamed like the
 * summaries), namespaces and nodes (with the template node's capacity). Pods are built on first lookup and rebuilt
 * after a container restart, so 5,000 × 110 pods cost nothing until an enricher asks.
 *
 * @example
 * const meta = simulatedMetadata(nodes, 1);
 * meta.pod('kube-system', 'coredns-66bc5c9577-d98t2-001')?.containers[0]?.requests.cpu; // 100
 */
export function simulatedMetadata(nodes: readonly NodeState[], seed: number): MetadataProvider {
  const podIndex = new Map<string, { node: NodeState; slot: number }>();
  const podCache = new Map<NodeState, (PodMeta | undefined)[]>();
  const nodeByName = new Map<string, NodeState>();
  const namespaceNames = new Set<string>();
  for (const node of nodes) {
    nodeByName.set(node.name, node);
    const templatePods = node.layout.template.summary.pods;
    node.layout.slots.forEach((slot, i) => {
      const namespace = templatePods[slot.templatePod]!.podRef.namespace;
      namespaceNames.add(namespace);
      podIndex.set(namespace + '/' + node.podNames[i]!, { node, slot: i });
    });
    const cache: (PodMeta | undefined)[] = [];
    podCache.set(node, cache);
    node.onRestart((container) => {
      cache[node.layout.containerSlot[container]!] = undefined;
    });
  }
  const rng = seededRandom(seed, -1);
  const namespaces = new Map<string, NamespaceMeta>();
  for (const name of [...namespaceNames].sort()) {
    namespaces.set(name, { name, uid: seededUuid(rng), labels: { 'kubernetes.io/metadata.name': name } });
  }
  const nodeMetas = new Map<string, NodeMeta>();
  const templateMetas = new Map<Layout, readonly PodTemplateMeta[]>();
  return {
    pod(namespace, name) {
      const entry = podIndex.get(namespace + '/' + name);
      if (!entry) return undefined;
      const cache = podCache.get(entry.node)!;
      return (cache[entry.slot] ??= buildPod(entry.node, entry.slot, templateMetas));
    },
    namespace: (name) => namespaces.get(name),
    node(name) {
      const cached = nodeMetas.get(name);
      if (cached) return cached;
      const node = nodeByName.get(name);
      if (!node) return undefined;
      const meta = buildNode(node.layout.template, name);
      nodeMetas.set(name, meta);
      return meta;
    },
  };
}

function buildPod(
  node: NodeState,
  slot: number,
  templateMetas: Map<Layout, readonly PodTemplateMeta[]>,
): PodMeta {
  const layout = node.layout;
  let metas = templateMetas.get(layout);
  if (!metas) {
    metas = podTemplates(layout);
    templateMetas.set(layout, metas);
  }
  const template = metas[layout.slots[slot]!.templatePod]!;
  const restartCounts: Record<string, number> = { ...template.initialRestarts };
  for (let c = 0; c < layout.containerSlot.length; c++) {
    if (layout.containerSlot[c] !== slot) continue;
    const name = layout.containerName[c]!;
    restartCounts[name] = (restartCounts[name] ?? 0) + node.restarts[c]!;
  }
  return {
    namespace: template.namespace,
    name: node.podNames[slot]!,
    uid: node.podUids[slot]!,
    nodeName: node.name,
    labels: template.labels,
    ...(template.startTime !== undefined ? { startTime: template.startTime } : {}),
    containers: template.containers,
    restartCounts,
    ...(template.owner ? { owner: template.owner } : {}),
  };
}

function podTemplates(layout: Layout): readonly PodTemplateMeta[] {
  const { summary, podsByUid } = layout.template;
  // Same shift as the summary's start times (see LayoutBuilder.shifted): the capture moved to t0.
  const reference = Date.parse((summary.node as { cpu?: { time?: string } }).cpu?.time ?? '');
  const shift = Number.isNaN(reference) ? 0 : Math.floor(layout.t0 / 1000) * 1000 - reference;
  return summary.pods.map((pod) => podTemplateMeta(pod, podsByUid.get(pod.podRef.uid), shift));
}

function podTemplateMeta(
  summaryPod: KubeletTemplate['summary']['pods'][number],
  pod: PodJson | undefined,
  shift: number,
): PodTemplateMeta {
  const startText =
    pod?.status?.startTime ?? (typeof summaryPod.startTime === 'string' ? summaryPod.startTime : '');
  const start = Date.parse(startText);
  const containers: ContainerSpecMeta[] = pod
    ? pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        requests: resourceList(c.resources?.requests),
        limits: resourceList(c.resources?.limits),
      }))
    : (summaryPod.containers ?? []).map((c) => ({
        name: typeof c.name === 'string' ? c.name : '',
        image: '',
        requests: {},
        limits: {},
      }));
  const initialRestarts: Record<string, number> = {};
  for (const c of containers) initialRestarts[c.name] = 0;
  for (const status of pod?.status?.containerStatuses ?? [])
    initialRestarts[status.name] = status.restartCount ?? 0;
  const owner = ownerOf(pod);
  return {
    namespace: summaryPod.podRef.namespace,
    labels: pod?.metadata.labels ?? {},
    ...(Number.isNaN(start) ? {} : { startTime: start + shift }),
    containers,
    initialRestarts,
    ...(owner ? { owner } : {}),
  };
}

/** The workload behind a pod, resolved the way the metadata cache does: ReplicaSet → Deployment, Job → CronJob. */
function ownerOf(pod: PodJson | undefined): { kind: string; name: string } | undefined {
  const refs = pod?.metadata.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  if (!ref) return undefined;
  const hash = pod?.metadata.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith('-' + hash)) {
    return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  }
  // A CronJob names its Jobs <cronjob>-<scheduled minute>.
  const cron = /^(.+)-\d{8,}$/.exec(ref.name);
  if (ref.kind === 'Job' && cron) return { kind: 'CronJob', name: cron[1]! };
  return { kind: ref.kind, name: ref.name };
}

function buildNode(template: KubeletTemplate, name: string): NodeMeta {
  const templateName = template.summary.node.nodeName;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(template.node?.metadata.labels ?? {})) {
    labels[key] = value === templateName ? name : value;
  }
  return {
    name,
    labels,
    capacity: resourceList(template.node?.status?.capacity),
    allocatable: resourceList(template.node?.status?.allocatable),
  };
}
