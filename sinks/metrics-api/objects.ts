import { isoSeconds } from '../../src/model/iso-time.js';
import { jsonString } from '../../src/model/json-text.js';
import { cpuQuantity, goDuration, memoryQuantity } from './go-text.js';
import type { NodeEntry, Usage } from './store.js';
import type { KubernetesStatus } from '../../src/kube/delegated-auth/guard.js';
import { failureStatus } from '../../src/kube/delegated-auth/statuses.js';

/**
 * The JSON of the `k8s.io/metrics` v1beta1 types (NodeMetrics, PodMetrics and their lists) with the field order,
 * omissions and value formats Go's encoding/json gives metrics-server's objects: ObjectMeta's fields in struct
 * order (name, namespace, creationTimestamp, labels), labels sorted by key and left out when empty, usage keys
 * sorted (`cpu` before `memory`), times in RFC 3339 to the second, the window as a Go duration. Written by hand:
 * a list of 150,000 pods is built per request.
 */

export const GROUP = 'metrics.k8s.io';
export const VERSION = 'v1beta1';
export const GROUP_VERSION = `${GROUP}/${VERSION}`;

type Labels = Readonly<Record<string, string>> | undefined;

function labelsText(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  keys.sort();
  let out = ',"labels":{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    out += jsonString(key) + ':' + jsonString(labels[key] as string);
  }
  return out + '}';
}

function usageJson(nanocores: number, memoryBytes: number): string {
  return '{"cpu":"' + cpuQuantity(nanocores) + '","memory":"' + memoryQuantity(memoryBytes) + '"}';
}

/** `"kind":…,"apiVersion":…,` for a top-level object; list items carry none, as the API server writes them. */
export function typeMeta(kind: string): string {
  return '"kind":"' + kind + '","apiVersion":"' + GROUP_VERSION + '",';
}

/**
 * Writes the metrics objects of one response. What many objects share is written once: the creation time (one
 * `now` per response), sample times by second and windows by length (a cycle's samples fall within a few
 * seconds), and each labels object's text (kept while the metadata keeps the object).
 */
export class MetricsJsonWriter {
  private readonly created: string;
  private readonly seconds = new Map<number, string>();
  private readonly windows = new Map<number, string>();

  constructor(
    nowMs: number,
    private readonly labelTexts: WeakMap<object, string>,
  ) {
    this.created = isoSeconds(nowMs);
  }

  private labels(labels: Labels): string {
    if (labels === undefined) return '';
    let text = this.labelTexts.get(labels);
    if (text === undefined) this.labelTexts.set(labels, (text = labelsText(labels)));
    return text;
  }

  private times(usage: Usage): string {
    const second = Math.floor(usage.timestamp / 1000);
    let time = this.seconds.get(second);
    if (time === undefined) this.seconds.set(second, (time = isoSeconds(usage.timestamp)));
    let window = this.windows.get(usage.windowUs);
    if (window === undefined) this.windows.set(usage.windowUs, (window = goDuration(usage.windowUs * 1000)));
    return '"timestamp":"' + time + '","window":"' + window + '"';
  }

  /**
   * One NodeMetrics object (metrics-server pkg/storage/node.go `GetMetrics`: name, labels of the node,
   * creationTimestamp = now, the usage's timestamp and window).
   */
  node(name: string, labels: Labels, usage: Usage, kind = ''): string {
    return (
      '{' +
      kind +
      '"metadata":{"name":' +
      jsonString(name) +
      ',"creationTimestamp":"' +
      this.created +
      '"' +
      this.labels(labels) +
      '},' +
      this.times(usage) +
      ',"usage":' +
      usageJson(usage.nanocores, usage.memoryBytes) +
      '}'
    );
  }

  /**
   * One PodMetrics object (metrics-server pkg/storage/pod.go `GetMetrics`: name, namespace and labels of the pod,
   * creationTimestamp = now, the earliest container's timestamp and window, one entry per container).
   */
  pod(entry: NodeEntry, pod: number, labels: Labels, kind = ''): string {
    let containers = '';
    const end = entry.podEnd(pod);
    for (let c = entry.podStart(pod); c < end; c++) {
      const usage = entry.containerUsage(c);
      if (containers !== '') containers += ',';
      containers +=
        '{"name":' +
        jsonString(entry.containerNames[c] as string) +
        ',"usage":' +
        usageJson(usage.nanocores, usage.memoryBytes) +
        '}';
    }
    return (
      '{' +
      kind +
      '"metadata":{"name":' +
      jsonString(entry.podNames[pod] as string) +
      ',"namespace":' +
      jsonString(entry.podNamespaces[pod] as string) +
      ',"creationTimestamp":"' +
      this.created +
      '"' +
      this.labels(labels) +
      '},' +
      this.times(entry.containerUsage(entry.podTimeContainer(pod))) +
      ',"containers":[' +
      containers +
      ']}'
    );
  }
}

/** The text before a list's items; `"metadata":{}` as ListMeta with nothing set marshals. */
export function listHead(kind: string): string {
  return '{' + typeMeta(kind) + '"metadata":{},"items":[';
}

export const LIST_TAIL = ']}\n';

/** A Kubernetes `Status` failure body (the type the delegated guard's refusals carry too). */
export type StatusBody = KubernetesStatus;

/** The metrics API's failures are built as the guard's are. */
export const failure = failureStatus;

/**
 * metrics-server's NotFound for a node or pod it has no metrics for: apimachinery `errors.NewNotFound` with the
 * group resource `nodemetrics.metrics.k8s.io` / `podmetrics.metrics.k8s.io` (metrics-server pkg/api/install.go),
 * and for pods the name `namespace/name` (pkg/api/pod.go `Get`).
 */
export function metricsNotFound(resource: 'nodemetrics' | 'podmetrics', name: string): StatusBody {
  return failure(404, 'NotFound', `${resource}.${GROUP} "${name}" not found`, {
    name,
    group: GROUP,
    kind: resource,
  });
}
