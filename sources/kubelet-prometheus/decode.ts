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
 * else the time the response arrived.
 *
 * Values: each is checked against its catalogue metric after scaling and rounding (value-range.ts), as the
 * Summary and cAdvisor sources check theirs: NaN, ±Inf, a negative value, or one from 2^63 up is omitted and
 * recorded in the DecodeReport with its line. A network total with such a part is omitted too. A memory limit
 * of 0 or ≥ 2^62 (+Inf included) means unlimited and is omitted without being recorded.
 *
 * Limits: more samples than `maxSeries`, or more sets than `maxSets`, fail the node with reason `too_large`
 * as soon as the limit is passed, so a runaway payload is not parsed to its end.
 */
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import type { MetricDescriptor, SetType } from '../../src/model/catalogue.js';
import { ScrapeError } from '../../src/component/errors.js';
import {
  DEFAULT_MAX_SERIES,
  DEFAULT_MAX_SETS_PER_NODE,
  DecodeReport,
  type DecodeOptions,
} from '../../src/model/decode-report.js';
import { catalogued, fitsMetric } from '../../src/model/value-range.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import { SetValues } from '../../src/model/set-values.js';
import {
  hostLabels,
  podUidOfCgroup,
  systemContainerNameFor,
  type NodeInfo,
  type SystemContainerNaming,
} from '../../src/kube/payload/cgroup.js';
import { UNLIMITED_AT } from '../../src/model/value-range.js';
import { PrometheusTextReader } from './prom-text.js';
import { copyRecordWith } from '../../src/model/copy.js';

export type { NodeInfo } from '../../src/kube/payload/cgroup.js';

/**
 * What a series adds to its set: `set` the value (rounded to an integer), `sum` it (network counters over
 * interfaces), a labeled value per `device`, the set's `start` time, or a memory `limit` when it is real.
 */
type Op = 'set' | 'sum' | 'device' | 'start' | 'limit';

interface Mapping {
  readonly metric: string;
  /** The catalogue entry of `metric`, which its values are checked against; undefined for `start` and ''. */
  readonly descriptor: MetricDescriptor | undefined;
  readonly op: Op;
  /** Multiplier applied before rounding (seconds → ns, load → load × 1000). */
  readonly scale: number;
}

function map(metric: string, op: Op, scale = 1): Mapping {
  return { metric, descriptor: metric === '' ? undefined : catalogued(metric), op, scale };
}

const PAGE_FAULTS = catalogued('memory/page_faults');
const MAJOR_PAGE_FAULTS = catalogued('memory/major_page_faults');

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

/** The latest time a JavaScript Date can hold (ms since the epoch): a start time beyond it is no time. */
const LATEST_DATE_MS = 8.64e15;

/** The values of one object being collected. */
class SetBuilder {
  readonly values: Record<string, number> = {};
  readonly labeled: LabeledValue[] = [];
  scrapeTime = 0;
  startTime = 0;
  /** Series that reached this set with a usable value: 0 when only broken network parts did (left out). */
  kept = 0;
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

  build(type: SetType, key: string, labels: Labels, report: DecodeReport): MetricSet {
    const values = this.values;
    for (const metric of NETWORK_METRICS) {
      const sum = values[metric.name];
      if (sum === undefined || fitsMetric(metric, sum)) continue;
      // NaN: a part was out of range and is recorded already; else the total itself is.
      if (sum === sum) report.valueOutOfRange(`${key} total`, metric.name, metric, sum);
      delete values[metric.name];
    }
    if (this.startTime !== 0 && this.scrapeTime !== 0) {
      values['uptime'] = this.scrapeTime > this.startTime ? Math.trunc(this.scrapeTime - this.startTime) : 0;
    }
    return {
      type,
      key,
      labels,
      // Built as a record because a sum of out-of-range parts is marked NaN while collecting (above).
      values: SetValues.from(values),
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
 * sets whose samples carry no timestamp. Throws a DecodeError naming the line of malformed text, and a
 * ScrapeError (`too_large`) past `options.maxSeries` samples or `options.maxSets` sets; omitted values go to
 * `options.report`.
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
  options: DecodeOptions = {},
): MetricSet[] {
  const reader = new PrometheusTextReader(text, what);
  const report = options.report ?? new DecodeReport();
  const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  const builders = new BuilderCount(node.name, what, options.maxSets ?? DEFAULT_MAX_SETS_PER_NODE);
  let series = 0;
  let nodeSet: SetBuilder | undefined;
  const systemContainers = new Map<string, SetBuilder | null>();
  const systemNames = new Map<SetBuilder, string>();
  const takenNames = new Set<string>();
  const namespaces = new Map<string, Map<string, PodEntry>>();

  while (reader.next()) {
    if (++series > maxSeries) {
      throw new ScrapeError(
        node.name,
        'too_large',
        `${what} holds more than max_series (${maxSeries}) samples; stopped at line ${reader.line}. Raise max_series if the node is real`,
      );
    }
    const mapping = MAPPINGS.get(reader.name);
    if (mapping === undefined) continue;
    const value = reader.value;
    let metric = mapping.metric;
    let descriptor = mapping.descriptor;
    if (mapping.op === 'set' && metric === '') {
      // container_memory_failures_total: page faults of this cgroup only, as cAdvisor's ContainerData.
      if (reader.label('scope') !== 'container') continue;
      const kind = reader.label('failure_type');
      if (kind === 'pgfault') descriptor = PAGE_FAULTS;
      else if (kind === 'pgmajfault') descriptor = MAJOR_PAGE_FAULTS;
      else continue;
      metric = descriptor.name;
    }
    const isCpu = metric === 'cpu/usage';
    if (isCpu) {
      const cpu = reader.label('cpu');
      if (cpu !== undefined && cpu !== 'total') continue;
    }

    // The value as stored, checked against its metric before any set is made for it. A part of a network
    // total that is out of range still reaches its set, as NaN, so the total is left out (SetBuilder.build);
    // an unlimited memory limit is NaN too: nothing to store. A set that only NaN reached is left out.
    let stored = value;
    if (mapping.op === 'limit' && (value === 0 || value >= UNLIMITED_AT)) {
      stored = NaN;
    } else if (mapping.op === 'start') {
      // Checked once scaled to ms: 1.8e305 seconds is finite, but not as ms, and no date at all.
      const ms = value * mapping.scale;
      if (!(ms <= LATEST_DATE_MS)) {
        report.valueOutOfRange(
          `${what} line ${reader.line} (${reader.name})`,
          'startTime',
          START_KIND,
          value,
        );
        continue;
      }
    } else {
      stored = Math.round(value * mapping.scale);
      if (descriptor !== undefined && !fitsMetric(descriptor, stored)) {
        report.valueOutOfRange(`${what} line ${reader.line} (${reader.name})`, metric, descriptor, value);
        if (mapping.op !== 'sum') continue;
        stored = NaN;
      }
    }

    // Which object: node, pod container, pod (cgroup or sandbox), or system container.
    let builder: SetBuilder | undefined;
    let isPodContainer = false;
    const family = reader.name.charCodeAt(0);
    if (family === 110 /* n: node_* */) {
      builder = nodeSet ??= builders.next();
    } else {
      const namespace = reader.label('namespace');
      const pod = reader.label('pod') ?? reader.label('pod_name');
      if (namespace !== undefined && namespace !== '' && pod !== undefined && pod !== '') {
        const entry = podEntry(namespaces, namespace, pod);
        const container = reader.label('container') ?? reader.label('container_name');
        if (family === 112 /* p: pod_* */) {
          builder = entry.cgroup ??= builders.next();
        } else if (container !== undefined && container !== '' && container !== 'POD') {
          let slot = entry.containers.get(container);
          if (slot === undefined) {
            const image = reader.label('image');
            slot = { builder: builders.next(), image: image === '' ? undefined : image };
            entry.containers.set(container, slot);
          }
          builder = slot.builder;
          isPodContainer = true;
        } else {
          const name = reader.label('name');
          if (container === 'POD' || (name !== undefined && name !== '')) {
            builder = entry.sandbox ??= builders.next();
          } else {
            builder = entry.cgroup ??= builders.next();
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
          builder = nodeSet ??= builders.next();
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
            builder = builders.next();
            systemContainers.set(id, builder);
            systemNames.set(builder, name);
          }
        }
      }
    }

    builder.time(reader.timestamp ?? responseTime, isCpu);
    if (stored === stored) builder.kept++;
    switch (mapping.op) {
      case 'set':
        builder.values[metric] = stored;
        break;
      case 'sum':
        builder.values[metric] = (builder.values[metric] ?? 0) + stored;
        break;
      case 'device': {
        const device = reader.label('device');
        if (device === undefined || device === '') break;
        builder.labeled.push({ name: metric, labels: builder.device(device), value: stored });
        break;
      }
      case 'start':
        if (value > 0) builder.startTime = value * mapping.scale;
        break;
      case 'limit':
        if (isPodContainer && stored === stored) builder.values[metric] = stored;
        break;
    }
  }

  return assemble(node, nodeSet, systemNames, namespaces, report);
}

/** A start time is any finite number of seconds (≤ 0 means unknown and is skipped). */
const START_KIND = { valueType: 'float', kind: 'gauge' } as const;

/** Makes the SetBuilders of one payload, failing the node once there are more than `max`. */
class BuilderCount {
  private count = 0;

  constructor(
    private readonly node: string,
    private readonly what: string,
    private readonly max: number,
  ) {}

  next(): SetBuilder {
    if (++this.count > this.max) {
      throw new ScrapeError(
        this.node,
        'too_large',
        `${this.what} describes more than max_sets_per_node (${this.max}) sets; raise it if the node is real`,
      );
    }
    return new SetBuilder();
  }
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
  report: DecodeReport,
): MetricSet[] {
  const host = hostLabels(node);
  const sets: MetricSet[] = [];
  if (nodeSet !== undefined && nodeSet.kept > 0) {
    const labels = copyRecordWith(host, { [LABEL.type]: 'node' });
    sets.push(nodeSet.build('node', nodeKey(node.name), labels, report));
  }
  for (const [builder, name] of systemContainers) {
    if (builder.kept === 0) continue;
    const labels = copyRecordWith(host, { [LABEL.type]: 'sys_container', [LABEL.containerName]: name });
    sets.push(builder.build('sys_container', sysContainerKey(node.name, name), labels, report));
  }
  const containers: MetricSet[] = [];
  for (const [namespace, pods] of namespaces) {
    for (const [pod, entry] of pods) {
      const podLabels: Record<string, string> = copyRecordWith(host, { [LABEL.type]: 'pod' });
      if (entry.uid !== undefined) podLabels[LABEL.podId] = entry.uid;
      podLabels[LABEL.podName] = pod;
      podLabels[LABEL.namespaceName] = namespace;
      const cgroup = usable(entry.cgroup);
      const sandbox = usable(entry.sandbox);
      const main = cgroup ?? sandbox;
      if (main !== undefined) {
        if (cgroup !== undefined && sandbox !== undefined) mergeNetwork(cgroup, sandbox);
        sets.push(main.build('pod', podKey(namespace, pod), podLabels, report));
      }
      for (const [container, { builder, image }] of entry.containers) {
        if (builder.kept === 0) continue;
        const labels: Record<string, string> = {
          ...podLabels,
          [LABEL.type]: 'pod_container',
          [LABEL.containerName]: container,
        };
        if (image !== undefined) labels[LABEL.containerBaseImage] = image;
        const key = podContainerKey(namespace, pod, container);
        containers.push(builder.build('pod_container', key, labels, report));
      }
    }
  }
  for (const set of containers) sets.push(set);
  return sets;
}

/** A builder that some usable value reached, else undefined. */
function usable(builder: SetBuilder | undefined): SetBuilder | undefined {
  return builder !== undefined && builder.kept > 0 ? builder : undefined;
}

const NETWORK_METRICS = [
  catalogued('network/rx'),
  catalogued('network/rx_errors'),
  catalogued('network/tx'),
  catalogued('network/tx_errors'),
] as const;

/** A pod cgroup has no network of its own: the sandbox's is the pod's. */
function mergeNetwork(cgroup: SetBuilder, sandbox: SetBuilder): void {
  if (cgroup.values['network/rx'] !== undefined) return;
  for (const { name } of NETWORK_METRICS) {
    const value = sandbox.values[name];
    if (value !== undefined) cgroup.values[name] = value;
  }
}
