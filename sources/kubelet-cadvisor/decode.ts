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
 *
 * Large integers: JSON.parse reads uint64 values beyond 2^53 as the nearest double. Counters there lose
 * nothing that matters for rates (relative error ~1e-16). cAdvisor writes "no limit" as values near 2^63
 * (e.g. 9223372036854771712, 18446744073709551615); any limit ≥ 2^62 is read as unlimited and omitted.
 *
 * Not decoded (no catalogue metric): per-cpu usage, cpu user/system time, tcp/udp tables, task stats.
 */
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import type { SetType } from '../../src/model/catalogue.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import { DecodeError } from '../../src/errors.js';
import {
  elementObject,
  fail,
  optionalArray,
  optionalCount,
  optionalNumber,
  optionalObject,
  optionalString,
  pathOf,
  requiredString,
  type JsonObject,
} from '../kubelet-summary/read-json.js';
import { GO_ZERO_TIME_MS, KubeletTimeParser } from '../kubelet-summary/time.js';
import {
  hostLabels,
  podUidOfCgroup,
  systemContainerNameFor,
  type NodeInfo,
  type SystemContainerNaming,
} from './cgroup.js';
import { copyRecordWith } from '../../src/model/copy.js';

export type { NodeInfo } from './cgroup.js';

/** Which samples of a container become sets. */
export type SampleSelection = 'last' | 'all';

/** A limit at or above this is cAdvisor's way of saying "unlimited" (Go's MaxInt64 rounded to a page). */
export const UNLIMITED_AT = 2 ** 62;

const POD_NAME_LABEL = 'io.kubernetes.pod.name';
const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
const POD_UID_LABEL = 'io.kubernetes.pod.uid';
const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
const INFRA_CONTAINER_NAME = 'POD';

/** One container of the payload, with what the mapping needs. */
interface Entry {
  readonly info: JsonObject;
  readonly path: string;
  /** First alias, else the cgroup name. */
  readonly name: string;
  readonly spec: JsonObject | undefined;
  readonly stats: readonly unknown[];
  readonly startTime: number;
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
 * DecodeError naming the JSON path on a malformed payload.
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
): MetricSet[] {
  return new CadvisorDecoder(node, samples, naming).decode(payload);
}

/** One payload's decoding state. Never reused. */
class CadvisorDecoder {
  private readonly sets: MetricSet[] = [];
  private readonly times = new KubeletTimeParser();
  private readonly host: Labels;

  constructor(
    private readonly node: NodeInfo,
    private readonly samples: SampleSelection,
    private readonly naming: SystemContainerNaming,
  ) {
    this.host = hostLabels(node);
  }

  decode(payload: unknown): MetricSet[] {
    let root: Entry | undefined;
    const pods = new Map<string, PodRef>();
    const podByUid = new Map<string, PodRef>();
    const containers = new Map<string, { entry: Entry; pod: PodRef; container: string }>();
    const unlabeled: Entry[] = [];

    for (const [info, path] of listContainers(payload)) {
      const entry = this.entry(info, path);
      if (entry === undefined) continue;
      const cgroup = requiredString(info, 'name', path, '');
      if (cgroup === '/') {
        root = entry;
        continue;
      }
      const labels = containerLabels(info, entry.spec, path);
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
      addImage(labels, entry);
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
      addImage(labels, entry);
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

  /** The entry of a container with samples, or undefined when it has none (Heapster skipped those). */
  private entry(info: JsonObject, path: string): Entry | undefined {
    const stats = optionalArray(info, 'stats', path, '');
    if (stats === undefined || stats.length === 0) return undefined;
    const spec = optionalObject(info, 'spec', path, '');
    const aliases = optionalArray(info, 'aliases', path, '');
    const alias = aliases?.[0];
    const name = typeof alias === 'string' && alias !== '' ? alias : requiredString(info, 'name', path, '');
    const startTime = spec === undefined ? 0 : this.time(spec, 'creation_time', path, 'spec');
    return { info, path, name, spec, stats, startTime };
  }

  /** Emits the sets of one container: its last sample, or each sample in order. */
  private emit(entry: Entry, type: SetType, key: string, labels: Labels, network: Entry | undefined): void {
    const first = this.samples === 'last' ? entry.stats.length - 1 : 0;
    for (let i = first; i < entry.stats.length; i++) {
      const statPath = `${entry.path}.stats[${i}]`;
      const stat = elementObject(entry.stats, i, entry.path, 'stats');
      const scrapeTime = this.time(stat, 'timestamp', statPath, '');
      const values: Record<string, number> = {};
      const labeled: LabeledValue[] = [];
      addUptime(values, entry.startTime, scrapeTime);
      addSample(values, labeled, entry.spec, stat, statPath);
      if (type === 'pod_container') addMemoryLimit(values, entry.spec, entry.path);
      if (network !== undefined && values['network/rx'] === undefined) {
        // The sandbox's sample that lines up with this one, counted from the newest.
        const j = network.stats.length - (entry.stats.length - i);
        if (j >= 0) {
          const netStat = elementObject(network.stats, j, network.path, 'stats');
          const net = optionalObject(netStat, 'network', `${network.path}.stats[${j}]`, '');
          if (net !== undefined && hasFlag(network.spec, 'has_network')) {
            addNetwork(values, net, `${network.path}.stats[${j}]`, 'network');
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

/** The container's labels: `spec.labels` in cAdvisor v1, top-level `labels` in some re-encodings. */
function containerLabels(
  info: JsonObject,
  spec: JsonObject | undefined,
  path: string,
): Readonly<Record<string, string>> | undefined {
  const labels =
    (spec === undefined ? undefined : optionalObject(spec, 'labels', path, 'spec')) ??
    optionalObject(info, 'labels', path, '');
  return labels as Readonly<Record<string, string>> | undefined;
}

function addImage(labels: Record<string, string>, entry: Entry): void {
  const image =
    entry.spec === undefined ? undefined : optionalString(entry.spec, 'image', entry.path, 'spec');
  if (image !== undefined) labels[LABEL.containerBaseImage] = image;
}

/** Heapster's HasValue: a spec flag that is absent counts as set, so partial payloads still decode. */
function hasFlag(spec: JsonObject | undefined, flag: string): boolean {
  return spec === undefined || spec[flag] !== false;
}

function addUptime(values: Record<string, number>, startTime: number, scrapeTime: number): void {
  if (startTime === 0 || scrapeTime === 0) return;
  values['uptime'] = scrapeTime > startTime ? Math.trunc(scrapeTime - startTime) : 0;
}

function addSample(
  values: Record<string, number>,
  labeled: LabeledValue[],
  spec: JsonObject | undefined,
  stat: JsonObject,
  path: string,
): void {
  const cpu = optionalObject(stat, 'cpu', path, '');
  if (cpu !== undefined && hasFlag(spec, 'has_cpu')) addCpu(values, cpu, path);
  const memory = optionalObject(stat, 'memory', path, '');
  if (memory !== undefined && hasFlag(spec, 'has_memory')) addMemory(values, memory, path);
  const network = optionalObject(stat, 'network', path, '');
  if (network !== undefined && hasFlag(spec, 'has_network')) addNetwork(values, network, path, 'network');
  const filesystems = optionalArray(stat, 'filesystem', path, '');
  if (filesystems !== undefined && hasFlag(spec, 'has_filesystem')) {
    addFilesystems(labeled, filesystems, path);
  }
  const diskio = optionalObject(stat, 'diskio', path, '');
  if (diskio !== undefined && hasFlag(spec, 'has_diskio')) addDiskIo(labeled, diskio, path);
}

function addCpu(values: Record<string, number>, cpu: JsonObject, path: string): void {
  const usage = optionalObject(cpu, 'usage', path, 'cpu');
  const total = usage === undefined ? undefined : optionalCount(usage, 'total', path, 'cpu.usage');
  if (total !== undefined) values['cpu/usage'] = total;
  // cAdvisor's load average is an int32 (load × 1000); Heapster passed it through as an int64.
  const load = optionalNumber(cpu, 'load_average', path, 'cpu');
  if (load !== undefined) values['cpu/load'] = Math.trunc(load);
}

function addMemory(values: Record<string, number>, memory: JsonObject, path: string): void {
  const usage = optionalCount(memory, 'usage', path, 'memory');
  if (usage !== undefined) values['memory/usage'] = usage;
  const workingSet = optionalCount(memory, 'working_set', path, 'memory');
  if (workingSet !== undefined) values['memory/working_set'] = workingSet;
  const rss = optionalCount(memory, 'rss', path, 'memory');
  if (rss !== undefined) values['memory/rss'] = rss;
  const cache = optionalCount(memory, 'cache', path, 'memory');
  if (cache !== undefined) values['memory/cache'] = cache;
  const data = optionalObject(memory, 'container_data', path, 'memory');
  if (data !== undefined) {
    const faults = optionalCount(data, 'pgfault', path, 'memory.container_data');
    if (faults !== undefined) values['memory/page_faults'] = faults;
    const major = optionalCount(data, 'pgmajfault', path, 'memory.container_data');
    if (major !== undefined) values['memory/major_page_faults'] = major;
  }
}

/**
 * Sums every interface, as Heapster did: the catalogue has no per-interface network metric, and the inline
 * top-level fields are only the first interface. Falls back to them when `interfaces` is absent.
 */
function addNetwork(
  values: Record<string, number>,
  network: JsonObject,
  path: string,
  section: string,
): void {
  const interfaces = optionalArray(network, 'interfaces', path, section);
  if (interfaces === undefined) {
    addInterface(values, network, path, section, 1);
    return;
  }
  values['network/rx'] = 0;
  values['network/rx_errors'] = 0;
  values['network/tx'] = 0;
  values['network/tx_errors'] = 0;
  for (let i = 0; i < interfaces.length; i++) {
    const item = elementObject(interfaces, i, pathOf(path, section, ''), 'interfaces');
    addInterface(values, item, path, `${section}.interfaces[${i}]`, 0);
  }
}

/** Adds one interface's counters to the sums; `init` 1 sets them instead (no interface list). */
function addInterface(
  values: Record<string, number>,
  item: JsonObject,
  path: string,
  section: string,
  init: 0 | 1,
): void {
  const rx = optionalCount(item, 'rx_bytes', path, section);
  const rxErrors = optionalCount(item, 'rx_errors', path, section);
  const tx = optionalCount(item, 'tx_bytes', path, section);
  const txErrors = optionalCount(item, 'tx_errors', path, section);
  if (init === 1) {
    if (rx !== undefined) values['network/rx'] = rx;
    if (rxErrors !== undefined) values['network/rx_errors'] = rxErrors;
    if (tx !== undefined) values['network/tx'] = tx;
    if (txErrors !== undefined) values['network/tx_errors'] = txErrors;
    return;
  }
  values['network/rx'] = (values['network/rx'] ?? 0) + (rx ?? 0);
  values['network/rx_errors'] = (values['network/rx_errors'] ?? 0) + (rxErrors ?? 0);
  values['network/tx'] = (values['network/tx'] ?? 0) + (tx ?? 0);
  values['network/tx_errors'] = (values['network/tx_errors'] ?? 0) + (txErrors ?? 0);
}

function addFilesystems(labeled: LabeledValue[], filesystems: readonly unknown[], path: string): void {
  for (let i = 0; i < filesystems.length; i++) {
    const fs = elementObject(filesystems, i, path, 'filesystem');
    const fsPath = `${path}.filesystem[${i}]`;
    const device = optionalString(fs, 'device', fsPath, '');
    if (device === undefined) continue;
    const labels: Labels = { [LABEL.resourceId]: device };
    const usage = optionalCount(fs, 'usage', fsPath, '');
    if (usage !== undefined) labeled.push({ name: 'filesystem/usage', labels, value: usage });
    const capacity = optionalCount(fs, 'capacity', fsPath, '');
    if (capacity !== undefined) labeled.push({ name: 'filesystem/limit', labels, value: capacity });
    const available = optionalCount(fs, 'available', fsPath, '');
    if (available !== undefined) labeled.push({ name: 'filesystem/available', labels, value: available });
    if (fs['has_inodes'] === false) continue;
    const inodes = optionalCount(fs, 'inodes', fsPath, '');
    if (inodes !== undefined) labeled.push({ name: 'filesystem/inodes', labels, value: inodes });
    const free = optionalCount(fs, 'inodes_free', fsPath, '');
    if (free !== undefined) labeled.push({ name: 'filesystem/inodes_free', labels, value: free });
  }
}

/** Bytes read and written per block device, `resource_id` = the device name, else `major:minor`. */
function addDiskIo(labeled: LabeledValue[], diskio: JsonObject, path: string): void {
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
    const read = optionalCount(stats, 'Read', devicePath, 'stats');
    if (read !== undefined) labeled.push({ name: 'disk/io_read_bytes', labels, value: read });
    const write = optionalCount(stats, 'Write', devicePath, 'stats');
    if (write !== undefined) labeled.push({ name: 'disk/io_write_bytes', labels, value: write });
  }
}

/** `memory/limit` of a pod container from its cgroup limit, unless that limit means "unlimited". */
function addMemoryLimit(values: Record<string, number>, spec: JsonObject | undefined, path: string): void {
  if (spec === undefined || spec['has_memory'] === false) return;
  const memory = optionalObject(spec, 'memory', path, 'spec');
  if (memory === undefined) return;
  const limit = optionalNumber(memory, 'limit', path, 'spec.memory');
  if (limit !== undefined && limit > 0 && limit < UNLIMITED_AT) values['memory/limit'] = Math.trunc(limit);
}
