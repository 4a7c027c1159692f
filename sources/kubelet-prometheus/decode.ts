/**
 * Maps the kubelet's Prometheus endpoints to Heapster's metric sets, the same sets the Summary API and
 * cAdvisor sources make, so a cluster that only exposes `/metrics/resource` or `/metrics/cadvisor` still gets
 * node, system container, pod and pod container sets with Heapster's names.
 *
 * `/metrics/resource` (kubelet ≥ 1.18; metrics-server's source):
 * - node_cpu_usage_seconds_total → node cpu/usage (ns); node_memory_working_set_bytes → memory/working_set
 * - container_cpu_usage_seconds_total / container_memory_working_set_bytes {namespace,pod,container}
 *   → pod_container cpu/usage, memory/working_set; container_start_time_seconds → startTime
 * - pod_cpu_usage_seconds_total / pod_memory_working_set_bytes {namespace,pod} → pod sets
 *
 * `/metrics/cadvisor` (every cgroup cAdvisor sees, with Kubernetes labels added by the kubelet):
 * - `id="/"` is the node; a series with `namespace`+`pod` and a `container` is a pod container; one with
 *   `namespace`+`pod` and no container is the pod's cgroup (no `name`) or its sandbox (`name` set, or the
 *   docker-era `container="POD"`): the cgroup gives the pod's values, the sandbox its network, as in the
 *   cadvisor source; any other `id` is a system container, named by the cgroup without the leading `/`.
 * - cpu/usage, cpu/load, memory/{usage,working_set,rss,cache,page_faults,major_page_faults} (scope
 *   container, as Heapster's ContainerData), network/{rx,rx_errors,tx,tx_errors} summed over interfaces,
 *   filesystem/{usage,limit,inodes,inodes_free} and disk/io_{read,write}_bytes labeled resource_id=device,
 *   memory/limit for pod containers (below 2^62), startTime from container_start_time_seconds.
 * - Per-cpu series (`cpu` other than `total`) and everything without a catalogue metric are skipped.
 *
 * Old kubelets (< 1.16) named the labels `pod_name` and `container_name`; both spellings are read.
 *
 * Times: a set's scrapeTime is the sample timestamp (ms) of its cpu/usage series, else of its first series,
 * else the time the response arrived. NaN and ±Inf values are skipped (no catalogue metric can hold them).
 */
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import type { SetType } from '../../src/model/catalogue.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import {
  hostLabels,
  podUidOfCgroup,
  systemContainerNameFor,
  type NodeInfo,
  type SystemContainerNaming,
} from '../kubelet-cadvisor/cgroup.js';
import { UNLIMITED_AT } from '../kubelet-cadvisor/decode.js';
import { PrometheusTextReader } from './prom-text.js';
import { copyRecordWith } from '../../src/model/copy.js';

export type { NodeInfo } from '../kubelet-cadvisor/cgroup.js';

/**
 * What a series adds to its set: `set` the value (rounded to an integer), `sum` it (network counters over
 * interfaces), a labeled value per `device`, the set's `start` time, or a memory `limit` when it is real.
 */
type Op = 'set' | 'sum' | 'device' | 'start' | 'limit';

interface Mapping {
  readonly metric: string;
  readonly op: Op;
  /** Multiplier applied before rounding (seconds → ns, load → load × 1000). */
  readonly scale: number;
}

function map(metric: string, op: Op, scale = 1): Mapping {
  return { metric, op, scale };
}

/** Prometheus family → catalogue metric. Looked up once per sample; no string is built. */
const MAPPINGS: ReadonlyMap<string, Mapping> = new Map([
  ['node_cpu_usage_seconds_total', map('cpu/usage', 'set', 1e9)],
  ['node_memory_working_set_bytes', map('memory/working_set', 'set')],
  ['pod_cpu_usage_seconds_total', map('cpu/usage', 'set', 1e9)],
  ['pod_memory_working_set_bytes', map('memory/working_set', 'set')],
  ['container_cpu_usage_seconds_total', map('cpu/usage', 'set', 1e9)],
  ['container_cpu_load_average_10s', map('cpu/load', 'set', 1000)],
  ['container_memory_usage_bytes', map('memory/usage', 'set')],
  ['container_memory_working_set_bytes', map('memory/working_set', 'set')],
  ['container_memory_rss', map('memory/rss', 'set')],
  ['container_memory_cache', map('memory/cache', 'set')],
  ['container_memory_failures_total', map('', 'set')],
  ['container_network_receive_bytes_total', map('network/rx', 'sum')],
  ['container_network_receive_errors_total', map('network/rx_errors', 'sum')],
  ['container_network_transmit_bytes_total', map('network/tx', 'sum')],
  ['container_network_transmit_errors_total', map('network/tx_errors', 'sum')],
  ['container_fs_usage_bytes', map('filesystem/usage', 'device')],
  ['container_fs_limit_bytes', map('filesystem/limit', 'device')],
  ['container_fs_inodes_total', map('filesystem/inodes', 'device')],
  ['container_fs_inodes_free', map('filesystem/inodes_free', 'device')],
  ['container_fs_reads_bytes_total', map('disk/io_read_bytes', 'device')],
  ['container_fs_writes_bytes_total', map('disk/io_write_bytes', 'device')],
  ['container_start_time_seconds', map('', 'start', 1000)],
  ['container_spec_memory_limit_bytes', map('memory/limit', 'limit')],
]);

/** The values of one object being collected. */
class SetBuilder {
  readonly values: Record<string, number> = {};
  readonly labeled: LabeledValue[] = [];
  scrapeTime = 0;
  startTime = 0;
  private timeFromCpu = false;
  private deviceLabels: Map<string, Labels> | undefined;

  /** Takes the sample's time: the first one seen, replaced by the cpu/usage sample's. */
  time(ms: number, isCpu: boolean): void {
    if (this.timeFromCpu) return;
    if (isCpu) {
      this.scrapeTime = ms;
      this.timeFromCpu = true;
    } else if (this.scrapeTime === 0) {
      this.scrapeTime = ms;
    }
  }

  /** One labels object per device, shared by all its values. */
  device(id: string): Labels {
    this.deviceLabels ??= new Map();
    let labels = this.deviceLabels.get(id);
    if (labels === undefined) {
      labels = { [LABEL.resourceId]: id };
      this.deviceLabels.set(id, labels);
    }
    return labels;
  }

  build(type: SetType, key: string, labels: Labels): MetricSet {
    const values = this.values;
    if (this.startTime !== 0 && this.scrapeTime !== 0) {
      values['uptime'] = this.scrapeTime > this.startTime ? Math.trunc(this.scrapeTime - this.startTime) : 0;
    }
    return {
      type,
      key,
      labels,
      values,
      labeled: this.labeled,
      scrapeTime: this.scrapeTime,
      startTime: this.startTime,
    };
  }
}

interface PodEntry {
  cgroup?: SetBuilder;
  sandbox?: SetBuilder;
  uid?: string | undefined;
  readonly containers: Map<string, { builder: SetBuilder; image: string | undefined }>;
}

/**
 * Decodes a `/metrics/resource` or `/metrics/cadvisor` text into metric sets. `responseTime` (ms) stamps the
 * sets whose samples carry no timestamp. Throws a DecodeError naming the line of malformed text.
 *
 * @example
 * const sets = decodePrometheusMetrics(text, { name: 'node-1' }, Date.now(), '/metrics/resource');
 */
export function decodePrometheusMetrics(
  text: string,
  node: NodeInfo,
  responseTime: number,
  what = 'metrics',
  naming: SystemContainerNaming = 'summary',
): MetricSet[] {
  const reader = new PrometheusTextReader(text, what);
  let nodeSet: SetBuilder | undefined;
  const systemContainers = new Map<string, SetBuilder | null>();
  const systemNames = new Map<SetBuilder, string>();
  const takenNames = new Set<string>();
  const namespaces = new Map<string, Map<string, PodEntry>>();

  while (reader.next()) {
    const mapping = MAPPINGS.get(reader.name);
    if (mapping === undefined) continue;
    const value = reader.value;
    if (!Number.isFinite(value)) continue;
    let metric = mapping.metric;
    if (mapping.op === 'set' && metric === '') {
      // container_memory_failures_total: page faults of this cgroup only, as cAdvisor's ContainerData.
      if (reader.label('scope') !== 'container') continue;
      const kind = reader.label('failure_type');
      if (kind === 'pgfault') metric = 'memory/page_faults';
      else if (kind === 'pgmajfault') metric = 'memory/major_page_faults';
      else continue;
    }
    const isCpu = metric === 'cpu/usage';
    if (isCpu) {
      const cpu = reader.label('cpu');
      if (cpu !== undefined && cpu !== 'total') continue;
    }

    // Which object: node, pod container, pod (cgroup or sandbox), or system container.
    let builder: SetBuilder | undefined;
    let isPodContainer = false;
    const family = reader.name.charCodeAt(0);
    if (family === 110 /* n: node_* */) {
      builder = nodeSet ??= new SetBuilder();
    } else {
      const namespace = reader.label('namespace');
      const pod = reader.label('pod') ?? reader.label('pod_name');
      if (namespace !== undefined && namespace !== '' && pod !== undefined && pod !== '') {
        const entry = podEntry(namespaces, namespace, pod);
        const container = reader.label('container') ?? reader.label('container_name');
        if (family === 112 /* p: pod_* */) {
          builder = entry.cgroup ??= new SetBuilder();
        } else if (container !== undefined && container !== '' && container !== 'POD') {
          let slot = entry.containers.get(container);
          if (slot === undefined) {
            const image = reader.label('image');
            slot = { builder: new SetBuilder(), image: image === '' ? undefined : image };
            entry.containers.set(container, slot);
          }
          builder = slot.builder;
          isPodContainer = true;
        } else {
          const name = reader.label('name');
          if (container === 'POD' || (name !== undefined && name !== '')) {
            builder = entry.sandbox ??= new SetBuilder();
          } else {
            builder = entry.cgroup ??= new SetBuilder();
            if (entry.uid === undefined) {
              const id = reader.label('id');
              if (id !== undefined) entry.uid = podUidOfCgroup(id);
            }
          }
        }
      } else {
        const id = reader.label('id');
        if (id === undefined || id === '') continue;
        if (id === '/') {
          builder = nodeSet ??= new SetBuilder();
        } else {
          const known = systemContainers.get(id);
          if (known === null) continue;
          builder = known;
          if (builder === undefined) {
            const name = systemContainerNameFor(id, naming);
            // Remember a left-out cgroup too, so its other series cost one lookup.
            if (name === undefined || takenNames.has(name)) {
              systemContainers.set(id, null);
              continue;
            }
            takenNames.add(name);
            builder = new SetBuilder();
            systemContainers.set(id, builder);
            systemNames.set(builder, name);
          }
        }
      }
    }

    builder.time(reader.timestamp ?? responseTime, isCpu);
    switch (mapping.op) {
      case 'set':
        builder.values[metric] = Math.round(value * mapping.scale);
        break;
      case 'sum':
        builder.values[metric] = (builder.values[metric] ?? 0) + Math.round(value);
        break;
      case 'device': {
        const device = reader.label('device');
        if (device === undefined || device === '') break;
        builder.labeled.push({ name: metric, labels: builder.device(device), value: Math.round(value) });
        break;
      }
      case 'start':
        if (value > 0) builder.startTime = value * mapping.scale;
        break;
      case 'limit':
        if (isPodContainer && value > 0 && value < UNLIMITED_AT) builder.values[metric] = Math.round(value);
        break;
    }
  }

  return assemble(node, nodeSet, systemNames, namespaces);
}

function podEntry(namespaces: Map<string, Map<string, PodEntry>>, namespace: string, pod: string): PodEntry {
  let pods = namespaces.get(namespace);
  if (pods === undefined) {
    pods = new Map();
    namespaces.set(namespace, pods);
  }
  let entry = pods.get(pod);
  if (entry === undefined) {
    entry = { containers: new Map() };
    pods.set(pod, entry);
  }
  return entry;
}

/** Builds the sets in the order the other kubelet sources use: node, system containers, pods, containers. */
function assemble(
  node: NodeInfo,
  nodeSet: SetBuilder | undefined,
  systemContainers: ReadonlyMap<SetBuilder, string>,
  namespaces: ReadonlyMap<string, ReadonlyMap<string, PodEntry>>,
): MetricSet[] {
  const host = hostLabels(node);
  const sets: MetricSet[] = [];
  if (nodeSet !== undefined) {
    sets.push(nodeSet.build('node', nodeKey(node.name), copyRecordWith(host, { [LABEL.type]: 'node' })));
  }
  for (const [builder, name] of systemContainers) {
    const labels = copyRecordWith(host, { [LABEL.type]: 'sys_container', [LABEL.containerName]: name });
    sets.push(builder.build('sys_container', sysContainerKey(node.name, name), labels));
  }
  const containers: MetricSet[] = [];
  for (const [namespace, pods] of namespaces) {
    for (const [pod, entry] of pods) {
      const podLabels: Record<string, string> = copyRecordWith(host, { [LABEL.type]: 'pod' });
      if (entry.uid !== undefined) podLabels[LABEL.podId] = entry.uid;
      podLabels[LABEL.podName] = pod;
      podLabels[LABEL.namespaceName] = namespace;
      const main = entry.cgroup ?? entry.sandbox;
      if (main !== undefined) {
        if (entry.cgroup !== undefined && entry.sandbox !== undefined) {
          mergeNetwork(entry.cgroup, entry.sandbox);
        }
        sets.push(main.build('pod', podKey(namespace, pod), podLabels));
      }
      for (const [container, { builder, image }] of entry.containers) {
        const labels: Record<string, string> = {
          ...podLabels,
          [LABEL.type]: 'pod_container',
          [LABEL.containerName]: container,
        };
        if (image !== undefined) labels[LABEL.containerBaseImage] = image;
        containers.push(builder.build('pod_container', podContainerKey(namespace, pod, container), labels));
      }
    }
  }
  for (const set of containers) sets.push(set);
  return sets;
}

const NETWORK_METRICS = ['network/rx', 'network/rx_errors', 'network/tx', 'network/tx_errors'] as const;

/** A pod cgroup has no network of its own: the sandbox's is the pod's. */
function mergeNetwork(cgroup: SetBuilder, sandbox: SetBuilder): void {
  if (cgroup.values['network/rx'] !== undefined) return;
  for (const metric of NETWORK_METRICS) {
    const value = sandbox.values[metric];
    if (value !== undefined) cgroup.values[metric] = value;
  }
}
