/**
 * Decodes the kubelet's `/stats/summary` payload into metric sets, as Heapster's `summary.go` decodeSummary
 * did (HEAD e1e83412): one node set, system containers (`runtime` → `docker-daemon`, `misc` → `system`),
 * pods, pod containers; filesystems, accelerators and volumes as labeled values; `custom/<name>` from
 * userDefinedMetrics. See reference/heapster-behaviour.md a) "Summary decoding".
 *
 * Deliberate differences from Heapster:
 * - `uptime` = scrapeTime − startTime (both the kubelet's own clock), truncated to whole ms, not the collector's
 *   wall-clock now − startTime; omitted when either time is missing; 0 if the kubelet's clocks disagree.
 * - A null `rootfs.usedBytes` (or `logs.usedBytes`) does not panic: `ephemeral_storage/usage` is omitted.
 * - A pod's scrapeTime is `network.time` as in Heapster, falling back to `cpu.time`, then `memory.time`, when
 *   the pod has no network stats, so rates still work for host-network pods.
 * - Empty label values (a pod without uid, an unknown host id) are omitted rather than emitted as "".
 * - `custom/*` values keep the kubelet's float64; Heapster rounded them to float32. Their kind (gauge,
 *   cumulative, delta) is not carried: the model has no per-value kind.
 * - An accelerator field the kubelet did not send is omitted, not reported as 0.
 * - A negative or fractional counter, or an unparsable time, is a DecodeError (Go's decoder rejects them too).
 *
 * Precision: counters are uint64 in the kubelet; JSON.parse turns values beyond 2^53 into the nearest double
 * (relative error ~1e-16), negligible for the rates computed from them.
 *
 * Performance: one pass over the parsed object, label objects shared (all values of one filesystem share
 * one labels object), JSON paths built only for an error message, one time parser with a memo per payload.
 */
import { LABEL, type Labels } from '../../src/model/labels.js';
import { nodeKey, podContainerKey, podKey, sysContainerKey } from '../../src/model/keys.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import type { SetType } from '../../src/model/catalogue.js';
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
  requiredObject,
  requiredString,
  type JsonObject,
} from './read-json.js';
import { GO_ZERO_TIME_MS, KubeletTimeParser } from './time.js';
import { copyRecordWith } from '../../src/model/copy.js';

export { parseKubeletTime } from './time.js';

/** The node a payload was scraped from, as discovery knows it. */
export interface NodeInfo {
  readonly name: string;
  /** The node's Hostname address; defaults to the node name. */
  readonly hostname?: string;
  /** The node's external id; the `host_id` label is set only when it is known. */
  readonly hostId?: string;
}

const ROOT_FS_LABELS: Labels = Object.freeze({ [LABEL.resourceId]: '/' });
const LOGS_FS_LABELS: Labels = Object.freeze({ [LABEL.resourceId]: 'logs' });
const VOLUME_RESOURCE_PREFIX = 'Volume:';
const CUSTOM_METRIC_PREFIX = 'custom/';

/**
 * Decodes a parsed /stats/summary payload to metric sets, one per key (a later set with the same key replaces
 * an earlier one, except an older duplicate container, which is dropped). Throws DecodeError naming the JSON
 * path on a malformed payload.
 *
 * @example
 * const sets = decodeSummary(JSON.parse(body), { name: 'node-1', hostId: 'i-0abc' });
 * sets[0].key; // 'node:node-1'
 */
export function decodeSummary(payload: unknown, node: NodeInfo): MetricSet[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    fail('', '', '', 'an object', payload);
  }
  return new SummaryDecoder(node).decode(payload as JsonObject);
}

/** One payload's decoding state: the output, its key index and the time memo. Never reused. */
class SummaryDecoder {
  private readonly sets: MetricSet[] = [];
  private readonly indexByKey = new Map<string, number>();
  private readonly times = new KubeletTimeParser();
  private readonly hostLabels: Labels;

  constructor(node: NodeInfo) {
    const labels: Record<string, string> = {};
    if (node.name !== '') labels[LABEL.nodename] = node.name;
    const hostname = node.hostname === undefined || node.hostname === '' ? node.name : node.hostname;
    if (hostname !== '') labels[LABEL.hostname] = hostname;
    if (node.hostId !== undefined && node.hostId !== '') labels[LABEL.hostId] = node.hostId;
    this.hostLabels = labels;
  }

  decode(payload: JsonObject): MetricSet[] {
    this.decodeNode(requiredObject(payload, 'node', '', ''));
    const pods = optionalArray(payload, 'pods', '', '');
    if (pods !== undefined) {
      for (let i = 0; i < pods.length; i++) {
        this.decodePod(elementObject(pods, i, '', 'pods'), `pods[${i}]`);
      }
    }
    return this.sets;
  }

  private decodeNode(node: JsonObject): void {
    const path = 'node';
    const nodeName = requiredString(node, 'nodeName', path, '');
    const startTime = this.time(node, 'startTime', path, '');
    const cpu = optionalObject(node, 'cpu', path, '');
    const memory = optionalObject(node, 'memory', path, '');
    const network = optionalObject(node, 'network', path, '');
    const fs = optionalObject(node, 'fs', path, '');

    let scrapeTime = this.statsTime(cpu, path, 'cpu');
    if (scrapeTime === 0) scrapeTime = this.statsTime(memory, path, 'memory');
    if (scrapeTime === 0) scrapeTime = this.statsTime(network, path, 'network');

    const values: Record<string, number> = {};
    const labeled: LabeledValue[] = [];
    addUptime(values, startTime, scrapeTime);
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu');
    if (memory !== undefined) addMemory(values, memory, path, 'memory');
    if (network !== undefined) addNetwork(values, network, path, 'network');
    if (fs !== undefined) {
      const used = addFilesystem(labeled, fs, ROOT_FS_LABELS, path, 'fs');
      if (used !== undefined) values['ephemeral_storage/usage'] = used;
    }
    this.put({
      type: 'node',
      key: nodeKey(nodeName),
      labels: copyRecordWith(this.hostLabels, { [LABEL.type]: 'node' }),
      values,
      labeled,
      scrapeTime,
      startTime,
    });

    const containers = optionalArray(node, 'systemContainers', path, '');
    if (containers === undefined) return;
    for (let i = 0; i < containers.length; i++) {
      const container = elementObject(containers, i, path, 'systemContainers');
      const containerPath = `node.systemContainers[${i}]`;
      const name = systemContainerName(requiredString(container, 'name', containerPath, ''));
      const labels = copyRecordWith(this.hostLabels, {
        [LABEL.type]: 'sys_container',
        [LABEL.containerName]: name,
      });
      const startTime = this.time(container, 'startTime', containerPath, '');
      const key = sysContainerKey(nodeName, name);
      this.put(this.decodeContainer(container, containerPath, 'sys_container', key, labels, startTime));
    }
  }

  private decodePod(pod: JsonObject, path: string): void {
    const ref = requiredObject(pod, 'podRef', path, '');
    const name = requiredString(ref, 'name', path, 'podRef');
    const namespace = requiredString(ref, 'namespace', path, 'podRef');
    const uid = optionalString(ref, 'uid', path, 'podRef');
    const startTime = this.time(pod, 'startTime', path, '');
    const cpu = optionalObject(pod, 'cpu', path, '');
    const memory = optionalObject(pod, 'memory', path, '');
    const network = optionalObject(pod, 'network', path, '');
    const ephemeral = optionalObject(pod, 'ephemeral-storage', path, '');
    const volumes = optionalArray(pod, 'volume', path, '');

    let scrapeTime = this.statsTime(network, path, 'network');
    if (scrapeTime === 0) scrapeTime = this.statsTime(cpu, path, 'cpu');
    if (scrapeTime === 0) scrapeTime = this.statsTime(memory, path, 'memory');

    const values: Record<string, number> = {};
    const labeled: LabeledValue[] = [];
    addUptime(values, startTime, scrapeTime);
    if (network !== undefined) addNetwork(values, network, path, 'network');
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu');
    if (memory !== undefined) addMemory(values, memory, path, 'memory');
    if (ephemeral !== undefined) {
      const used = optionalCount(ephemeral, 'usedBytes', path, 'ephemeral-storage');
      if (used !== undefined) values['ephemeral_storage/usage'] = used;
    }
    if (volumes !== undefined) {
      for (let i = 0; i < volumes.length; i++) {
        const volume = elementObject(volumes, i, path, 'volume');
        const volumePath = `${path}.volume[${i}]`;
        const volumeName = requiredString(volume, 'name', volumePath, '');
        const fsLabels: Labels = { [LABEL.resourceId]: VOLUME_RESOURCE_PREFIX + volumeName };
        addFilesystem(labeled, volume, fsLabels, volumePath, '');
      }
    }

    const podLabels = copyRecordWith(this.hostLabels, { [LABEL.type]: 'pod' });
    if (uid !== undefined) podLabels[LABEL.podId] = uid;
    podLabels[LABEL.podName] = name;
    podLabels[LABEL.namespaceName] = namespace;
    this.put({
      type: 'pod',
      key: podKey(namespace, name),
      labels: podLabels,
      values,
      labeled,
      scrapeTime,
      startTime,
    });

    const containers = optionalArray(pod, 'containers', path, '');
    if (containers === undefined) return;
    for (let i = 0; i < containers.length; i++) {
      const container = elementObject(containers, i, path, 'containers');
      const containerPath = `${path}.containers[${i}]`;
      const containerName = requiredString(container, 'name', containerPath, '');
      const containerStart = this.time(container, 'startTime', containerPath, '');
      const key = podContainerKey(namespace, name, containerName);
      // The kubelet may list a restarted container twice; the older one (strictly earlier start) is dropped.
      const existing = this.indexByKey.get(key);
      if (existing !== undefined && containerStart < (this.sets[existing]?.startTime ?? 0)) continue;
      const labels = copyRecordWith(podLabels, {
        [LABEL.type]: 'pod_container',
        [LABEL.containerName]: containerName,
      });
      this.put(this.decodeContainer(container, containerPath, 'pod_container', key, labels, containerStart));
    }
  }

  private decodeContainer(
    container: JsonObject,
    path: string,
    type: SetType,
    key: string,
    labels: Labels,
    startTime: number,
  ): MetricSet {
    const cpu = optionalObject(container, 'cpu', path, '');
    const memory = optionalObject(container, 'memory', path, '');
    const rootfs = optionalObject(container, 'rootfs', path, '');
    const logs = optionalObject(container, 'logs', path, '');
    const accelerators = optionalArray(container, 'accelerators', path, '');
    const userMetrics = optionalArray(container, 'userDefinedMetrics', path, '');

    let scrapeTime = this.statsTime(cpu, path, 'cpu');
    if (scrapeTime === 0) scrapeTime = this.statsTime(memory, path, 'memory');

    const values: Record<string, number> = {};
    const labeled: LabeledValue[] = [];
    addUptime(values, startTime, scrapeTime);
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu');
    if (memory !== undefined) addMemory(values, memory, path, 'memory');
    if (accelerators !== undefined) addAccelerators(labeled, accelerators, path);
    const rootfsUsed =
      rootfs === undefined ? undefined : addFilesystem(labeled, rootfs, ROOT_FS_LABELS, path, 'rootfs');
    const logsUsed =
      logs === undefined ? undefined : addFilesystem(labeled, logs, LOGS_FS_LABELS, path, 'logs');
    if (rootfsUsed !== undefined && logsUsed !== undefined) {
      values['ephemeral_storage/usage'] = rootfsUsed + logsUsed;
    }
    if (userMetrics !== undefined) addUserMetrics(values, userMetrics, path);
    return { type, key, labels, values, labeled, scrapeTime, startTime };
  }

  /** Adds a set, or replaces the set of the same key in place (Heapster's map semantics). */
  private put(set: MetricSet): void {
    const index = this.indexByKey.get(set.key);
    if (index === undefined) {
      this.indexByKey.set(set.key, this.sets.length);
      this.sets.push(set);
    } else {
      this.sets[index] = set;
    }
  }

  /** The `time` of a cpu/memory/network block, 0 when the block or its time is missing. */
  private statsTime(stats: JsonObject | undefined, path: string, section: string): number {
    return stats === undefined ? 0 : this.time(stats, 'time', path, section);
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

/** Heapster's legacy names for two of the kubelet's system containers; the others keep theirs. */
function systemContainerName(name: string): string {
  switch (name) {
    case 'runtime':
      return 'docker-daemon';
    case 'misc':
      return 'system';
    default:
      return name;
  }
}

function addUptime(values: Record<string, number>, startTime: number, scrapeTime: number): void {
  if (startTime === 0 || scrapeTime === 0) return;
  values['uptime'] = scrapeTime > startTime ? Math.trunc(scrapeTime - startTime) : 0;
}

function addCpu(values: Record<string, number>, cpu: JsonObject, path: string, section: string): void {
  const usage = optionalCount(cpu, 'usageCoreNanoSeconds', path, section);
  if (usage !== undefined) values['cpu/usage'] = usage;
}

function addMemory(values: Record<string, number>, memory: JsonObject, path: string, section: string): void {
  const usage = optionalCount(memory, 'usageBytes', path, section);
  if (usage !== undefined) values['memory/usage'] = usage;
  const workingSet = optionalCount(memory, 'workingSetBytes', path, section);
  if (workingSet !== undefined) values['memory/working_set'] = workingSet;
  const rss = optionalCount(memory, 'rssBytes', path, section);
  if (rss !== undefined) values['memory/rss'] = rss;
  const pageFaults = optionalCount(memory, 'pageFaults', path, section);
  if (pageFaults !== undefined) values['memory/page_faults'] = pageFaults;
  const majorPageFaults = optionalCount(memory, 'majorPageFaults', path, section);
  if (majorPageFaults !== undefined) values['memory/major_page_faults'] = majorPageFaults;
}

function addNetwork(
  values: Record<string, number>,
  network: JsonObject,
  path: string,
  section: string,
): void {
  const rx = optionalCount(network, 'rxBytes', path, section);
  if (rx !== undefined) values['network/rx'] = rx;
  const rxErrors = optionalCount(network, 'rxErrors', path, section);
  if (rxErrors !== undefined) values['network/rx_errors'] = rxErrors;
  const tx = optionalCount(network, 'txBytes', path, section);
  if (tx !== undefined) values['network/tx'] = tx;
  const txErrors = optionalCount(network, 'txErrors', path, section);
  if (txErrors !== undefined) values['network/tx_errors'] = txErrors;
}

/** Adds the filesystem/* values of one filesystem, all sharing `labels`; returns usedBytes if known. */
function addFilesystem(
  labeled: LabeledValue[],
  fs: JsonObject,
  labels: Labels,
  path: string,
  section: string,
): number | undefined {
  const used = optionalCount(fs, 'usedBytes', path, section);
  if (used !== undefined) labeled.push({ name: 'filesystem/usage', labels, value: used });
  const capacity = optionalCount(fs, 'capacityBytes', path, section);
  if (capacity !== undefined) labeled.push({ name: 'filesystem/limit', labels, value: capacity });
  const available = optionalCount(fs, 'availableBytes', path, section);
  if (available !== undefined) labeled.push({ name: 'filesystem/available', labels, value: available });
  const inodes = optionalCount(fs, 'inodes', path, section);
  if (inodes !== undefined) labeled.push({ name: 'filesystem/inodes', labels, value: inodes });
  const inodesFree = optionalCount(fs, 'inodesFree', path, section);
  if (inodesFree !== undefined) labeled.push({ name: 'filesystem/inodes_free', labels, value: inodesFree });
  return used;
}

function addAccelerators(labeled: LabeledValue[], accelerators: readonly unknown[], path: string): void {
  for (let i = 0; i < accelerators.length; i++) {
    const accelerator = elementObject(accelerators, i, path, 'accelerators');
    const acceleratorPath = `${path}.accelerators[${i}]`;
    const labels: Record<string, string> = {};
    const make = optionalString(accelerator, 'make', acceleratorPath, '');
    if (make !== undefined) labels[LABEL.make] = make;
    const model = optionalString(accelerator, 'model', acceleratorPath, '');
    if (model !== undefined) labels[LABEL.model] = model;
    const id = optionalString(accelerator, 'id', acceleratorPath, '');
    if (id !== undefined) labels[LABEL.acceleratorId] = id;
    const total = optionalCount(accelerator, 'memoryTotal', acceleratorPath, '');
    if (total !== undefined) labeled.push({ name: 'accelerator/memory_total', labels, value: total });
    const used = optionalCount(accelerator, 'memoryUsed', acceleratorPath, '');
    if (used !== undefined) labeled.push({ name: 'accelerator/memory_used', labels, value: used });
    const dutyCycle = optionalCount(accelerator, 'dutyCycle', acceleratorPath, '');
    if (dutyCycle !== undefined) labeled.push({ name: 'accelerator/duty_cycle', labels, value: dutyCycle });
  }
}

function addUserMetrics(values: Record<string, number>, metrics: readonly unknown[], path: string): void {
  for (let i = 0; i < metrics.length; i++) {
    const metric = elementObject(metrics, i, path, 'userDefinedMetrics');
    const metricPath = `${path}.userDefinedMetrics[${i}]`;
    const type = metric['type'];
    // Heapster keeps gauge, cumulative and delta metrics and skips any other type.
    if (type !== 'gauge' && type !== 'cumulative' && type !== 'delta') continue;
    const name = requiredString(metric, 'name', metricPath, '');
    const value = optionalNumber(metric, 'value', metricPath, '');
    if (value !== undefined) values[CUSTOM_METRIC_PREFIX + name] = value;
  }
}
