/**
 * Decodes cAdvisor v1 `ContainerInfo` payloads into metric sets, as Heapster's legacy `kubernetes` source did
 * (`metrics/sources/kubelet/kubelet.go` decodeMetrics, HEAD e1e83412). Accepts the three shapes cAdvisor's v1
 * API answers with: the kubelet's `POST /stats/container/` map (name → ContainerInfo), standalone cAdvisor's
 * `/api/v1.3/subcontainers/` array, and a single ContainerInfo (`/api/v1.3/containers/`).
 *
 * Mapping:
 * - `/` is the node. Containers with the Kubernetes labels (`io.kubernetes.pod.namespace`, `…pod.name`,
 *   `…pod.uid`, `io.kubernetes.container.name`) are pod containers; the one named `POD` stands for the pod.
 * - Everything else is a system container, named by its first alias (else its cgroup) without the leading `/`.
 *
 * Deliberate differences from Heapster:
 * - A pod's own cgroup (`/kubepods/<qos>/pod<uid>`, or the systemd `…-pod<uid>.slice`) of a pod known from its
 *   containers' labels becomes the pod set, so pods carry the whole pod's cpu and memory, as in the Summary
 *   API; the `POD` (sandbox) container then only contributes the pod's network, which cgroups do not have.
 *   Without a pod cgroup the `POD` container is the pod, as in Heapster.
 * - `uptime` = sample timestamp − `spec.creation_time` (both cAdvisor's clock), not the collector's now.
 * - The `schedulable` label is not set: this source does not read Node objects.
 * - Two containers with the same key (a restarted container still listed): the one created last wins.
 * - Pod containers get `memory/limit` from `spec.memory.limit` unless it means "unlimited" (see below).
 * - A value its catalogue metric cannot hold (≥ 2^63, negative, `1e999`) is omitted and recorded in the
 *   DecodeReport, as in the other kubelet sources. A network total whose interfaces include such a value is
 *   omitted too (the sum would be wrong), as is one that itself reaches 2^63.
 * - A container whose `spec.labels` (the Go type is map[string]string) or `spec.image` holds anything but
 *   strings is left out and recorded in the DecodeReport with the JSON path; the node's other sets are kept.
 *   Heapster's decoder would have failed the whole payload.
 * - A payload listing more containers than `maxSets` fails the node with reason `too_large` before any is
 *   decoded (with `samples: all` a container gives several sets; the limit counts containers).
 *
 * Large integers: JSON.parse reads uint64 values beyond 2^53 as the nearest double. Counters there lose
 * nothing that matters for rates (relative error ~1e-16). cAdvisor writes "no limit" as values near 2^63
 * (e.g. 9223372036854771712, 18446744073709551615); any limit ≥ 2^62 is read as unlimited and omitted without
 * being counted as out of range: it is how cAdvisor says "none", not a broken value. A negative limit is.
 *
 * Not decoded (no catalogue metric): per-cpu usage, cpu user/system time, tcp/udp tables, task stats.
 */
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import type { SetType } from '../../src/model/catalogue.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import { SetValues } from '../../src/model/set-values.js';
import { DecodeError, ScrapeError } from '../../src/component/errors.js';
import {
  DEFAULT_MAX_SETS_PER_NODE,
  DecodeReport,
  type DecodeOptions,
} from '../../src/model/decode-report.js';
import { catalogued, fitsMetric, UNLIMITED_AT } from '../../src/model/value-range.js';
import type { MetricDescriptor } from '../../src/model/catalogue.js';
import {
  elementObject,
  fail,
  metricValue,
  optionalArray,
  optionalCount,
  optionalNumber,
  optionalObject,
  optionalString,
  pathOf,
  requiredString,
  type JsonObject,
} from '../../src/kube/payload/read-json.js';
import { GO_ZERO_TIME_MS, KubeletTimeParser } from '../../src/kube/payload/time.js';
import {
  hostLabels,
  podUidOfCgroup,
  systemContainerNameFor,
  type NodeInfo,
  type SystemContainerNaming,
} from '../../src/kube/payload/cgroup.js';
import { copyRecordWith } from '../../src/model/copy.js';

export type { NodeInfo } from '../../src/kube/payload/cgroup.js';

/** Which samples of a container become sets. */
export type SampleSelection = 'last' | 'all';

const POD_NAME_LABEL = 'io.kubernetes.pod.name';
const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
const POD_UID_LABEL = 'io.kubernetes.pod.uid';
const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
const INFRA_CONTAINER_NAME = 'POD';

// The catalogue entries of the values this decoder reads, looked up once.
const CPU_USAGE = catalogued('cpu/usage');
const CPU_LOAD = catalogued('cpu/load');
const MEMORY_USAGE = catalogued('memory/usage');
const MEMORY_WORKING_SET = catalogued('memory/working_set');
const MEMORY_RSS = catalogued('memory/rss');
const MEMORY_CACHE = catalogued('memory/cache');
const MEMORY_PAGE_FAULTS = catalogued('memory/page_faults');
const MEMORY_MAJOR_PAGE_FAULTS = catalogued('memory/major_page_faults');
const MEMORY_LIMIT = catalogued('memory/limit');
const NETWORK_RX = catalogued('network/rx');
const NETWORK_RX_ERRORS = catalogued('network/rx_errors');
const NETWORK_TX = catalogued('network/tx');
const NETWORK_TX_ERRORS = catalogued('network/tx_errors');
const FILESYSTEM_USAGE = catalogued('filesystem/usage');
const FILESYSTEM_LIMIT = catalogued('filesystem/limit');
const FILESYSTEM_AVAILABLE = catalogued('filesystem/available');
const FILESYSTEM_INODES = catalogued('filesystem/inodes');
const FILESYSTEM_INODES_FREE = catalogued('filesystem/inodes_free');
const DISK_IO_READ_BYTES = catalogued('disk/io_read_bytes');
const DISK_IO_WRITE_BYTES = catalogued('disk/io_write_bytes');

/** One container of the payload, with what the mapping needs. */
interface Entry {
  readonly info: JsonObject;
  readonly path: string;
  /** First alias, else the cgroup name. */
  readonly name: string;
  readonly spec: JsonObject | undefined;
  readonly stats: readonly unknown[];
  readonly startTime: number;
  /** `spec.image`, the `container_base_image` label. */
  readonly image: string | undefined;
}

interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  cgroup?: Entry;
  sandbox?: Entry;
}

/**
 * Decodes a parsed cAdvisor v1 payload (map, array or single ContainerInfo) into metric sets. Throws a
 * DecodeError naming the JSON path on a malformed payload, and a ScrapeError (`too_large`) past
 * `options.maxSets` containers; omitted values and left-out sets go to `options.report`.
 *
 * @example
 * const sets = decodeContainerInfos(JSON.parse(body), { name: 'node-1' }, 'last');
 * sets[0].key; // 'node:node-1'
 */
export function decodeContainerInfos(
  payload: unknown,
  node: NodeInfo,
  samples: SampleSelection = 'last',
  naming: SystemContainerNaming = 'cgroup',
  options: DecodeOptions = {},
): MetricSet[] {
  return new CadvisorDecoder(node, samples, naming, options).decode(payload);
}

/** One payload's decoding state. Never reused. */
class CadvisorDecoder {
  private readonly sets: MetricSet[] = [];
  private readonly times = new KubeletTimeParser();
  private readonly host: Labels;
  private readonly report: DecodeReport;
  private readonly maxSets: number;

  constructor(
    private readonly node: NodeInfo,
    private readonly samples: SampleSelection,
    private readonly naming: SystemContainerNaming,
    options: DecodeOptions,
  ) {
    this.host = hostLabels(node);
    this.report = options.report ?? new DecodeReport();
    this.maxSets = options.maxSets ?? DEFAULT_MAX_SETS_PER_NODE;
  }

  decode(payload: unknown): MetricSet[] {
    let root: Entry | undefined;
    const pods = new Map<string, PodRef>();
    const podByUid = new Map<string, PodRef>();
    const containers = new Map<string, { entry: Entry; pod: PodRef; container: string }>();
    const unlabeled: Entry[] = [];

    const listed = listContainers(payload);
    if (listed.length > this.maxSets) {
      throw new ScrapeError(
        this.node.name,
        'too_large',
        `the cAdvisor payload lists ${listed.length} containers, over max_sets_per_node (${this.maxSets}); raise it if the node is real`,
      );
    }
    for (const [info, path] of listed) {
      const entry = this.entry(info, path);
      if (entry === undefined) continue;
      const cgroup = requiredString(info, 'name', path, '');
      if (cgroup === '/') {
        root = entry;
        continue;
      }
      const labels = this.containerLabels(info, entry.spec, path);
      if (labels === null) continue;
      const namespace = labels?.[POD_NAMESPACE_LABEL];
      const podName = labels?.[POD_NAME_LABEL];
      if (namespace === undefined || namespace === '' || podName === undefined || podName === '') {
        unlabeled.push(entry);
        continue;
      }
      const key = podKey(namespace, podName);
      let pod = pods.get(key);
      if (pod === undefined) {
        const uid = labels?.[POD_UID_LABEL];
        pod = { namespace, name: podName, uid: uid === '' ? undefined : uid };
        pods.set(key, pod);
        if (pod.uid !== undefined) podByUid.set(pod.uid, pod);
      }
      const container = labels?.[CONTAINER_NAME_LABEL] ?? entry.name;
      if (container === INFRA_CONTAINER_NAME) {
        if (pod.sandbox === undefined || pod.sandbox.startTime <= entry.startTime) pod.sandbox = entry;
        continue;
      }
      const containerKey = podContainerKey(namespace, podName, container);
      const existing = containers.get(containerKey);
      if (existing === undefined || existing.entry.startTime <= entry.startTime) {
        containers.set(containerKey, { entry, pod, container });
      }
    }

    if (root !== undefined) {
      this.emit(
        root,
        'node',
        nodeKey(this.node.name),
        copyRecordWith(this.host, { [LABEL.type]: 'node' }),
        undefined,
      );
    }
    const systemContainers = new Map<string, Entry>();
    for (const entry of unlabeled) {
      const uid = podUidOfCgroup(entry.name);
      const pod = uid === undefined ? undefined : podByUid.get(uid);
      if (pod !== undefined) {
        pod.cgroup = entry;
        continue;
      }
      const name = systemContainerNameFor(entry.name, this.naming);
      if (name === undefined) continue;
      const existing = systemContainers.get(name);
      if (existing === undefined || existing.startTime <= entry.startTime) systemContainers.set(name, entry);
    }
    for (const [name, entry] of systemContainers) {
      const labels = copyRecordWith(this.host, {
        [LABEL.type]: 'sys_container',
        [LABEL.containerName]: name,
      });
      if (entry.image !== undefined) labels[LABEL.containerBaseImage] = entry.image;
      this.emit(entry, 'sys_container', sysContainerKey(this.node.name, name), labels, undefined);
    }
    const podLabelsByKey = new Map<string, Labels>();
    for (const [key, pod] of pods) {
      const labels = this.podLabels(pod);
      podLabelsByKey.set(key, labels);
      const main = pod.cgroup ?? pod.sandbox;
      if (main === undefined) continue;
      const network = pod.cgroup === undefined ? undefined : pod.sandbox;
      this.emit(main, 'pod', key, labels, network);
    }
    for (const [key, { entry, pod, container }] of containers) {
      const base = podLabelsByKey.get(podKey(pod.namespace, pod.name)) ?? this.podLabels(pod);
      const labels = copyRecordWith(base, {
        [LABEL.type]: 'pod_container',
        [LABEL.containerName]: container,
      });
      if (entry.image !== undefined) labels[LABEL.containerBaseImage] = entry.image;
      this.emit(entry, 'pod_container', key, labels, undefined);
    }
    return this.sets;
  }

  private podLabels(pod: PodRef): Labels {
    const labels: Record<string, string> = copyRecordWith(this.host, { [LABEL.type]: 'pod' });
    if (pod.uid !== undefined) labels[LABEL.podId] = pod.uid;
    labels[LABEL.podName] = pod.name;
    labels[LABEL.namespaceName] = pod.namespace;
    return labels;
  }

  /**
   * The entry of a container with samples, or undefined when it has none (Heapster skipped those) or its image
   * is not a string (recorded in the report).
   */
  private entry(info: JsonObject, path: string): Entry | undefined {
    const stats = optionalArray(info, 'stats', path, '');
    if (stats === undefined || stats.length === 0) return undefined;
    const spec = optionalObject(info, 'spec', path, '');
    const aliases = optionalArray(info, 'aliases', path, '');
    const alias = aliases?.[0];
    const name = typeof alias === 'string' && alias !== '' ? alias : requiredString(info, 'name', path, '');
    const startTime = spec === undefined ? 0 : this.time(spec, 'creation_time', path, 'spec');
    let image: string | undefined;
    const imageValue = spec?.['image'];
    if (typeof imageValue === 'string') {
      if (imageValue !== '') image = imageValue;
    } else if (imageValue !== undefined && imageValue !== null) {
      this.report.invalidLabel(pathOf(path, 'spec', 'image'), imageValue);
      return undefined;
    }
    return { info, path, name, spec, stats, startTime, image };
  }

  /**
   * The container's labels: `spec.labels` in cAdvisor v1, top-level `labels` in some re-encodings. Null when a
   * value is not a string: the container is left out (recorded in the report), since its labels may name its
   * pod and become label values and keys.
   */
  private containerLabels(
    info: JsonObject,
    spec: JsonObject | undefined,
    path: string,
  ): Readonly<Record<string, string>> | undefined | null {
    const inSpec = spec === undefined ? undefined : optionalObject(spec, 'labels', path, 'spec');
    const labels = inSpec ?? optionalObject(info, 'labels', path, '');
    if (labels === undefined) return undefined;
    for (const key in labels) {
      const value = labels[key];
      if (typeof value !== 'string') {
        const where = pathOf(path, inSpec === undefined ? '' : 'spec', `labels[${JSON.stringify(key)}]`);
        this.report.invalidLabel(where, value);
        return null;
      }
    }
    return labels as Readonly<Record<string, string>>;
  }

  /** Emits the sets of one container: its last sample, or each sample in order. */
  private emit(entry: Entry, type: SetType, key: string, labels: Labels, network: Entry | undefined): void {
    const first = this.samples === 'last' ? entry.stats.length - 1 : 0;
    for (let i = first; i < entry.stats.length; i++) {
      const statPath = `${entry.path}.stats[${i}]`;
      const stat = elementObject(entry.stats, i, entry.path, 'stats');
      const scrapeTime = this.time(stat, 'timestamp', statPath, '');
      const values = new SetValues();
      const labeled: LabeledValue[] = [];
      addUptime(values, entry.startTime, scrapeTime);
      addSample(values, labeled, entry.spec, stat, statPath, this.report);
      if (type === 'pod_container') addMemoryLimit(values, entry.spec, entry.path, this.report);
      if (network !== undefined && values.get('network/rx') === undefined) {
        // The sandbox's sample that lines up with this one, counted from the newest.
        const j = network.stats.length - (entry.stats.length - i);
        if (j >= 0) {
          const netStat = elementObject(network.stats, j, network.path, 'stats');
          const net = optionalObject(netStat, 'network', `${network.path}.stats[${j}]`, '');
          if (net !== undefined && hasFlag(network.spec, 'has_network')) {
            addNetwork(values, net, `${network.path}.stats[${j}]`, 'network', this.report);
          }
        }
      }
      this.sets.push({ type, key, labels, values, labeled, scrapeTime, startTime: entry.startTime });
    }
  }

  /** A time field in ms since the epoch; 0 when absent, null or Go's zero time. */
  private time(parent: JsonObject, field: string, path: string, section: string): number {
    const text = parent[field];
    if (text === undefined || text === null) return 0;
    if (typeof text !== 'string') fail(path, section, field, 'an RFC3339 time string', text);
    const ms = this.times.parse(text);
    if (ms === undefined) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
      throw new DecodeError(`${pathOf(path, section, field)}: expected an RFC3339 time, got "${shown}"`);
    }
    return ms === GO_ZERO_TIME_MS ? 0 : ms;
  }
}

/** The containers of a payload with their JSON paths, whatever its shape. */
function listContainers(payload: unknown): Array<[JsonObject, string]> {
  if (Array.isArray(payload)) {
    const out: Array<[JsonObject, string]> = [];
    for (let i = 0; i < payload.length; i++) out.push([elementObject(payload, i, '', ''), `[${i}]`]);
    return out;
  }
  if (typeof payload !== 'object' || payload === null) fail('', '', '', 'an object or an array', payload);
  const object = payload as JsonObject;
  if (typeof object['name'] === 'string' && ('stats' in object || 'spec' in object)) return [[object, '']];
  const out: Array<[JsonObject, string]> = [];
  for (const name of Object.keys(object)) {
    const path = `[${JSON.stringify(name)}]`;
    const info = optionalObject(object, name, '', '');
    if (info === undefined) fail('', '', path, 'a ContainerInfo object', object[name]);
    out.push([info, path]);
  }
  return out;
}

/** Heapster's HasValue: a spec flag that is absent counts as set, so partial payloads still decode. */
function hasFlag(spec: JsonObject | undefined, flag: string): boolean {
  return spec === undefined || spec[flag] !== false;
}

function addUptime(values: SetValues, startTime: number, scrapeTime: number): void {
  if (startTime === 0 || scrapeTime === 0) return;
  values.set('uptime', scrapeTime > startTime ? Math.trunc(scrapeTime - startTime) : 0);
}

function addSample(
  values: SetValues,
  labeled: LabeledValue[],
  spec: JsonObject | undefined,
  stat: JsonObject,
  path: string,
  report: DecodeReport,
): void {
  const cpu = optionalObject(stat, 'cpu', path, '');
  if (cpu !== undefined && hasFlag(spec, 'has_cpu')) addCpu(values, cpu, path, report);
  const memory = optionalObject(stat, 'memory', path, '');
  if (memory !== undefined && hasFlag(spec, 'has_memory')) addMemory(values, memory, path, report);
  const network = optionalObject(stat, 'network', path, '');
  if (network !== undefined && hasFlag(spec, 'has_network')) {
    addNetwork(values, network, path, 'network', report);
  }
  const filesystems = optionalArray(stat, 'filesystem', path, '');
  if (filesystems !== undefined && hasFlag(spec, 'has_filesystem')) {
    addFilesystems(labeled, filesystems, path, report);
  }
  const diskio = optionalObject(stat, 'diskio', path, '');
  if (diskio !== undefined && hasFlag(spec, 'has_diskio')) addDiskIo(labeled, diskio, path, report);
}

function addCpu(values: SetValues, cpu: JsonObject, path: string, report: DecodeReport): void {
  const usage = optionalObject(cpu, 'usage', path, 'cpu');
  const total =
    usage === undefined ? undefined : metricValue(usage, 'total', path, 'cpu.usage', CPU_USAGE, report);
  if (total !== undefined) values.set('cpu/usage', total);
  // cAdvisor's load average is an int32 (load × 1000); Heapster passed it through as an int64.
  const load = optionalNumber(cpu, 'load_average', path, 'cpu');
  if (load === undefined) return;
  const whole = Math.trunc(load);
  if (fitsMetric(CPU_LOAD, whole)) values.set('cpu/load', whole);
  else report.valueOutOfRange(pathOf(path, 'cpu', 'load_average'), CPU_LOAD.name, CPU_LOAD, load);
}

function addMemory(values: SetValues, memory: JsonObject, path: string, report: DecodeReport): void {
  const usage = metricValue(memory, 'usage', path, 'memory', MEMORY_USAGE, report);
  if (usage !== undefined) values.set('memory/usage', usage);
  const workingSet = metricValue(memory, 'working_set', path, 'memory', MEMORY_WORKING_SET, report);
  if (workingSet !== undefined) values.set('memory/working_set', workingSet);
  const rss = metricValue(memory, 'rss', path, 'memory', MEMORY_RSS, report);
  if (rss !== undefined) values.set('memory/rss', rss);
  const cache = metricValue(memory, 'cache', path, 'memory', MEMORY_CACHE, report);
  if (cache !== undefined) values.set('memory/cache', cache);
  const data = optionalObject(memory, 'container_data', path, 'memory');
  if (data !== undefined) {
    const section = 'memory.container_data';
    const faults = metricValue(data, 'pgfault', path, section, MEMORY_PAGE_FAULTS, report);
    if (faults !== undefined) values.set('memory/page_faults', faults);
    const major = metricValue(data, 'pgmajfault', path, section, MEMORY_MAJOR_PAGE_FAULTS, report);
    if (major !== undefined) values.set('memory/major_page_faults', major);
  }
}

/**
 * Sums every interface, as Heapster did: the catalogue has no per-interface network metric, and the inline
 * top-level fields are only the first interface. Falls back to them when `interfaces` is absent. An interface
 * value out of range leaves its total out (NaN marks it while summing).
 */
function addNetwork(
  values: SetValues,
  network: JsonObject,
  path: string,
  section: string,
  report: DecodeReport,
): void {
  const interfaces = optionalArray(network, 'interfaces', path, section);
  if (interfaces === undefined) {
    const rx = metricValue(network, 'rx_bytes', path, section, NETWORK_RX, report);
    if (rx !== undefined) values.set('network/rx', rx);
    const rxErrors = metricValue(network, 'rx_errors', path, section, NETWORK_RX_ERRORS, report);
    if (rxErrors !== undefined) values.set('network/rx_errors', rxErrors);
    const tx = metricValue(network, 'tx_bytes', path, section, NETWORK_TX, report);
    if (tx !== undefined) values.set('network/tx', tx);
    const txErrors = metricValue(network, 'tx_errors', path, section, NETWORK_TX_ERRORS, report);
    if (txErrors !== undefined) values.set('network/tx_errors', txErrors);
    return;
  }
  let rx = 0;
  let rxErrors = 0;
  let tx = 0;
  let txErrors = 0;
  for (let i = 0; i < interfaces.length; i++) {
    const item = elementObject(interfaces, i, pathOf(path, section, ''), 'interfaces');
    const itemSection = `${section}.interfaces[${i}]`;
    rx += summand(item, 'rx_bytes', path, itemSection, NETWORK_RX, report);
    rxErrors += summand(item, 'rx_errors', path, itemSection, NETWORK_RX_ERRORS, report);
    tx += summand(item, 'tx_bytes', path, itemSection, NETWORK_TX, report);
    txErrors += summand(item, 'tx_errors', path, itemSection, NETWORK_TX_ERRORS, report);
  }
  const where = pathOf(path, section, 'interfaces');
  putSum(values, rx, NETWORK_RX, where, report);
  putSum(values, rxErrors, NETWORK_RX_ERRORS, where, report);
  putSum(values, tx, NETWORK_TX, where, report);
  putSum(values, txErrors, NETWORK_TX_ERRORS, where, report);
}

/** One interface's part of a total: 0 when absent, NaN when out of range (already recorded). */
function summand(
  item: JsonObject,
  field: string,
  path: string,
  section: string,
  metric: MetricDescriptor,
  report: DecodeReport,
): number {
  const value = item[field];
  if (value === undefined || value === null) return 0;
  return metricValue(item, field, path, section, metric, report) ?? NaN;
}

/** Stores a total unless a part was out of range (NaN) or the total itself is (recorded then). */
function putSum(
  values: SetValues,
  sum: number,
  metric: MetricDescriptor,
  where: string,
  report: DecodeReport,
): void {
  if (fitsMetric(metric, sum)) values.set(metric.name, sum);
  else if (sum === sum) report.valueOutOfRange(where, metric.name, metric, sum);
}

function addFilesystems(
  labeled: LabeledValue[],
  filesystems: readonly unknown[],
  path: string,
  report: DecodeReport,
): void {
  for (let i = 0; i < filesystems.length; i++) {
    const fs = elementObject(filesystems, i, path, 'filesystem');
    const fsPath = `${path}.filesystem[${i}]`;
    const device = optionalString(fs, 'device', fsPath, '');
    if (device === undefined) continue;
    const labels: Labels = { [LABEL.resourceId]: device };
    const usage = metricValue(fs, 'usage', fsPath, '', FILESYSTEM_USAGE, report);
    if (usage !== undefined) labeled.push({ name: 'filesystem/usage', labels, value: usage });
    const capacity = metricValue(fs, 'capacity', fsPath, '', FILESYSTEM_LIMIT, report);
    if (capacity !== undefined) labeled.push({ name: 'filesystem/limit', labels, value: capacity });
    const available = metricValue(fs, 'available', fsPath, '', FILESYSTEM_AVAILABLE, report);
    if (available !== undefined) labeled.push({ name: 'filesystem/available', labels, value: available });
    if (fs['has_inodes'] === false) continue;
    const inodes = metricValue(fs, 'inodes', fsPath, '', FILESYSTEM_INODES, report);
    if (inodes !== undefined) labeled.push({ name: 'filesystem/inodes', labels, value: inodes });
    const free = metricValue(fs, 'inodes_free', fsPath, '', FILESYSTEM_INODES_FREE, report);
    if (free !== undefined) labeled.push({ name: 'filesystem/inodes_free', labels, value: free });
  }
}

/** Bytes read and written per block device, `resource_id` = the device name, else `major:minor`. */
function addDiskIo(labeled: LabeledValue[], diskio: JsonObject, path: string, report: DecodeReport): void {
  const devices = optionalArray(diskio, 'io_service_bytes', path, 'diskio');
  if (devices === undefined) return;
  for (let i = 0; i < devices.length; i++) {
    const device = elementObject(devices, i, pathOf(path, 'diskio', ''), 'io_service_bytes');
    const devicePath = `${path}.diskio.io_service_bytes[${i}]`;
    const stats = optionalObject(device, 'stats', devicePath, '');
    if (stats === undefined) continue;
    let id = optionalString(device, 'device', devicePath, '');
    if (id === undefined) {
      const major = optionalCount(device, 'major', devicePath, '');
      const minor = optionalCount(device, 'minor', devicePath, '');
      if (major === undefined || minor === undefined) continue;
      id = `${major}:${minor}`;
    }
    const labels: Labels = { [LABEL.resourceId]: id };
    const read = metricValue(stats, 'Read', devicePath, 'stats', DISK_IO_READ_BYTES, report);
    if (read !== undefined) labeled.push({ name: 'disk/io_read_bytes', labels, value: read });
    const write = metricValue(stats, 'Write', devicePath, 'stats', DISK_IO_WRITE_BYTES, report);
    if (write !== undefined) labeled.push({ name: 'disk/io_write_bytes', labels, value: write });
  }
}

/**
 * `memory/limit` of a pod container from its cgroup limit, unless that limit means "unlimited": 0, or ≥ 2^62
 * (cAdvisor's spelling of none, not a broken value, so not recorded). A negative limit is out of range.
 */
function addMemoryLimit(
  values: SetValues,
  spec: JsonObject | undefined,
  path: string,
  report: DecodeReport,
): void {
  if (spec === undefined || spec['has_memory'] === false) return;
  const memory = optionalObject(spec, 'memory', path, 'spec');
  if (memory === undefined) return;
  const limit = optionalNumber(memory, 'limit', path, 'spec.memory');
  if (limit === undefined || limit === 0 || limit >= UNLIMITED_AT) return;
  const whole = Math.trunc(limit);
  if (fitsMetric(MEMORY_LIMIT, whole)) values.set('memory/limit', whole);
  else report.valueOutOfRange(pathOf(path, 'spec.memory', 'limit'), MEMORY_LIMIT.name, MEMORY_LIMIT, limit);
}
