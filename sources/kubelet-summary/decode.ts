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
 * - A value its catalogue metric cannot hold (the uint64 "unknown" sentinel 18446744073709551615, anything from
 *   2^63 up, a negative value, `1e999`) is omitted and recorded in the DecodeReport, as in the other kubelet
 *   sources; Heapster wrapped such values to negative int64s. A fractional value where the kubelet's schema
 *   has an integer, or an unparsable time, is a DecodeError (Go's decoder rejects them too).
 * - More sets than `maxSets` fail the node with reason `too_large`, before the rest is decoded.
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
import { SetValues, slotOf } from '../../src/model/set-values.js';
import type { SetType } from '../../src/model/catalogue.js';
import { DecodeError, ScrapeError } from '../../src/component/errors.js';
import {
  DEFAULT_MAX_SETS_PER_NODE,
  DecodeReport,
  type DecodeOptions,
} from '../../src/model/decode-report.js';
import { catalogued, CUSTOM_METRIC_KIND, fitsMetric } from '../../src/model/value-range.js';
import {
  elementObject,
  fail,
  metricValue,
  optionalArray,
  optionalNumber,
  optionalObject,
  optionalString,
  pathOf,
  requiredObject,
  requiredString,
  type JsonObject,
} from '../../src/kube/payload/read-json.js';
import { GO_ZERO_TIME_MS, KubeletTimeParser } from '../../src/kube/payload/time.js';
import { copyRecordWith } from '../../src/model/copy.js';

export { parseKubeletTime } from '../../src/kube/payload/time.js';

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

// The value slots (set-values.ts) this decoder writes, looked up once.
const SLOT_CPU_USAGE = slotOf('cpu/usage');
const SLOT_EPHEMERAL_STORAGE_USAGE = slotOf('ephemeral_storage/usage');
const SLOT_MEMORY_MAJOR_PAGE_FAULTS = slotOf('memory/major_page_faults');
const SLOT_MEMORY_PAGE_FAULTS = slotOf('memory/page_faults');
const SLOT_MEMORY_RSS = slotOf('memory/rss');
const SLOT_MEMORY_USAGE = slotOf('memory/usage');
const SLOT_MEMORY_WORKING_SET = slotOf('memory/working_set');
const SLOT_NETWORK_RX = slotOf('network/rx');
const SLOT_NETWORK_RX_ERRORS = slotOf('network/rx_errors');
const SLOT_NETWORK_TX = slotOf('network/tx');
const SLOT_NETWORK_TX_ERRORS = slotOf('network/tx_errors');
const SLOT_UPTIME = slotOf('uptime');

// The catalogue entries of the values this decoder reads, looked up once.
const CPU_USAGE = catalogued('cpu/usage');
const MEMORY_USAGE = catalogued('memory/usage');
const MEMORY_WORKING_SET = catalogued('memory/working_set');
const MEMORY_RSS = catalogued('memory/rss');
const MEMORY_PAGE_FAULTS = catalogued('memory/page_faults');
const MEMORY_MAJOR_PAGE_FAULTS = catalogued('memory/major_page_faults');
const NETWORK_RX = catalogued('network/rx');
const NETWORK_RX_ERRORS = catalogued('network/rx_errors');
const NETWORK_TX = catalogued('network/tx');
const NETWORK_TX_ERRORS = catalogued('network/tx_errors');
const EPHEMERAL_STORAGE_USAGE = catalogued('ephemeral_storage/usage');
const FILESYSTEM_USAGE = catalogued('filesystem/usage');
const FILESYSTEM_LIMIT = catalogued('filesystem/limit');
const FILESYSTEM_AVAILABLE = catalogued('filesystem/available');
const FILESYSTEM_INODES = catalogued('filesystem/inodes');
const FILESYSTEM_INODES_FREE = catalogued('filesystem/inodes_free');
const ACCELERATOR_MEMORY_TOTAL = catalogued('accelerator/memory_total');
const ACCELERATOR_MEMORY_USED = catalogued('accelerator/memory_used');
const ACCELERATOR_DUTY_CYCLE = catalogued('accelerator/duty_cycle');

/**
 * Decodes a parsed /stats/summary payload to metric sets, one per key (a later set with the same key replaces
 * an earlier one, except an older duplicate container, which is dropped). Throws DecodeError naming the JSON
 * path on a malformed payload, and a ScrapeError (`too_large`) past `options.maxSets`; omitted values go to
 * `options.report`.
 *
 * @example
 * const report = new DecodeReport();
 * const sets = decodeSummary(JSON.parse(body), { name: 'node-1', hostId: 'i-0abc' }, { report });
 * sets[0].key; // 'node:node-1'
 */
export function decodeSummary(payload: unknown, node: NodeInfo, options: DecodeOptions = {}): MetricSet[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    fail('', '', '', 'an object', payload);
  }
  return new SummaryDecoder(node, options).decode(payload as JsonObject);
}

/** One payload's decoding state: the output, its key index and the time memo. Never reused. */
class SummaryDecoder {
  private readonly sets: MetricSet[] = [];
  private readonly indexByKey = new Map<string, number>();
  private readonly times = new KubeletTimeParser();
  private readonly hostLabels: Labels;
  private readonly report: DecodeReport;
  private readonly maxSets: number;

  constructor(
    private readonly node: NodeInfo,
    options: DecodeOptions,
  ) {
    this.report = options.report ?? new DecodeReport();
    this.maxSets = options.maxSets ?? DEFAULT_MAX_SETS_PER_NODE;
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
      // Every pod is a set at least: a payload with too many fails before any of them is decoded.
      if (pods.length > this.maxSets) this.tooManySets(`${pods.length} pods`);
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

    const values = new SetValues();
    const labeled: LabeledValue[] = [];
    const report = this.report;
    addUptime(values, startTime, scrapeTime);
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu', report);
    if (memory !== undefined) addMemory(values, memory, path, 'memory', report);
    if (network !== undefined) addNetwork(values, network, path, 'network', report);
    if (fs !== undefined) {
      const used = addFilesystem(labeled, fs, ROOT_FS_LABELS, path, 'fs', report);
      if (used !== undefined) values.setAt(SLOT_EPHEMERAL_STORAGE_USAGE, used);
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

    const values = new SetValues();
    const labeled: LabeledValue[] = [];
    const report = this.report;
    addUptime(values, startTime, scrapeTime);
    if (network !== undefined) addNetwork(values, network, path, 'network', report);
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu', report);
    if (memory !== undefined) addMemory(values, memory, path, 'memory', report);
    if (ephemeral !== undefined) {
      const used = metricValue(
        ephemeral,
        'usedBytes',
        path,
        'ephemeral-storage',
        EPHEMERAL_STORAGE_USAGE,
        report,
      );
      if (used !== undefined) values.setAt(SLOT_EPHEMERAL_STORAGE_USAGE, used);
    }
    if (volumes !== undefined) {
      for (let i = 0; i < volumes.length; i++) {
        const volume = elementObject(volumes, i, path, 'volume');
        const volumePath = `${path}.volume[${i}]`;
        const volumeName = requiredString(volume, 'name', volumePath, '');
        const fsLabels: Labels = { [LABEL.resourceId]: VOLUME_RESOURCE_PREFIX + volumeName };
        addFilesystem(labeled, volume, fsLabels, volumePath, '', report);
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

    const values = new SetValues();
    const labeled: LabeledValue[] = [];
    const report = this.report;
    addUptime(values, startTime, scrapeTime);
    if (cpu !== undefined) addCpu(values, cpu, path, 'cpu', report);
    if (memory !== undefined) addMemory(values, memory, path, 'memory', report);
    if (accelerators !== undefined) addAccelerators(labeled, accelerators, path, report);
    const rootfsUsed =
      rootfs === undefined
        ? undefined
        : addFilesystem(labeled, rootfs, ROOT_FS_LABELS, path, 'rootfs', report);
    const logsUsed =
      logs === undefined ? undefined : addFilesystem(labeled, logs, LOGS_FS_LABELS, path, 'logs', report);
    if (rootfsUsed !== undefined && logsUsed !== undefined) {
      const sum = rootfsUsed + logsUsed;
      if (fitsMetric(EPHEMERAL_STORAGE_USAGE, sum)) values.setAt(SLOT_EPHEMERAL_STORAGE_USAGE, sum);
      else
        report.valueOutOfRange(
          `${path}.rootfs + logs`,
          'ephemeral_storage/usage',
          EPHEMERAL_STORAGE_USAGE,
          sum,
        );
    }
    if (userMetrics !== undefined) addUserMetrics(values, userMetrics, path, report);
    return { type, key, labels, values, labeled, scrapeTime, startTime };
  }

  /** Adds a set, or replaces the set of the same key in place (Heapster's map semantics). */
  private put(set: MetricSet): void {
    const index = this.indexByKey.get(set.key);
    if (index === undefined) {
      if (this.sets.length === this.maxSets) this.tooManySets(`more than ${this.maxSets} sets`);
      this.indexByKey.set(set.key, this.sets.length);
      this.sets.push(set);
    } else {
      this.sets[index] = set;
    }
  }

  private tooManySets(what: string): never {
    throw new ScrapeError(
      this.node.name,
      'too_large',
      `the Summary holds ${what}, over max_sets_per_node (${this.maxSets}); raise it if the node is real`,
    );
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

function addUptime(values: SetValues, startTime: number, scrapeTime: number): void {
  if (startTime === 0 || scrapeTime === 0) return;
  values.setAt(SLOT_UPTIME, scrapeTime > startTime ? Math.trunc(scrapeTime - startTime) : 0);
}

function addCpu(
  values: SetValues,
  cpu: JsonObject,
  path: string,
  section: string,
  report: DecodeReport,
): void {
  const usage = metricValue(cpu, 'usageCoreNanoSeconds', path, section, CPU_USAGE, report);
  if (usage !== undefined) values.setAt(SLOT_CPU_USAGE, usage);
}

function addMemory(
  values: SetValues,
  memory: JsonObject,
  path: string,
  section: string,
  report: DecodeReport,
): void {
  const usage = metricValue(memory, 'usageBytes', path, section, MEMORY_USAGE, report);
  if (usage !== undefined) values.setAt(SLOT_MEMORY_USAGE, usage);
  const workingSet = metricValue(memory, 'workingSetBytes', path, section, MEMORY_WORKING_SET, report);
  if (workingSet !== undefined) values.setAt(SLOT_MEMORY_WORKING_SET, workingSet);
  const rss = metricValue(memory, 'rssBytes', path, section, MEMORY_RSS, report);
  if (rss !== undefined) values.setAt(SLOT_MEMORY_RSS, rss);
  const pageFaults = metricValue(memory, 'pageFaults', path, section, MEMORY_PAGE_FAULTS, report);
  if (pageFaults !== undefined) values.setAt(SLOT_MEMORY_PAGE_FAULTS, pageFaults);
  const majorPageFaults = metricValue(
    memory,
    'majorPageFaults',
    path,
    section,
    MEMORY_MAJOR_PAGE_FAULTS,
    report,
  );
  if (majorPageFaults !== undefined) values.setAt(SLOT_MEMORY_MAJOR_PAGE_FAULTS, majorPageFaults);
}

function addNetwork(
  values: SetValues,
  network: JsonObject,
  path: string,
  section: string,
  report: DecodeReport,
): void {
  const rx = metricValue(network, 'rxBytes', path, section, NETWORK_RX, report);
  if (rx !== undefined) values.setAt(SLOT_NETWORK_RX, rx);
  const rxErrors = metricValue(network, 'rxErrors', path, section, NETWORK_RX_ERRORS, report);
  if (rxErrors !== undefined) values.setAt(SLOT_NETWORK_RX_ERRORS, rxErrors);
  const tx = metricValue(network, 'txBytes', path, section, NETWORK_TX, report);
  if (tx !== undefined) values.setAt(SLOT_NETWORK_TX, tx);
  const txErrors = metricValue(network, 'txErrors', path, section, NETWORK_TX_ERRORS, report);
  if (txErrors !== undefined) values.setAt(SLOT_NETWORK_TX_ERRORS, txErrors);
}

/** Adds the filesystem/* values of one filesystem, all sharing `labels`; returns usedBytes if known. */
function addFilesystem(
  labeled: LabeledValue[],
  fs: JsonObject,
  labels: Labels,
  path: string,
  section: string,
  report: DecodeReport,
): number | undefined {
  const used = metricValue(fs, 'usedBytes', path, section, FILESYSTEM_USAGE, report);
  if (used !== undefined) labeled.push({ name: 'filesystem/usage', labels, value: used });
  const capacity = metricValue(fs, 'capacityBytes', path, section, FILESYSTEM_LIMIT, report);
  if (capacity !== undefined) labeled.push({ name: 'filesystem/limit', labels, value: capacity });
  const available = metricValue(fs, 'availableBytes', path, section, FILESYSTEM_AVAILABLE, report);
  if (available !== undefined) labeled.push({ name: 'filesystem/available', labels, value: available });
  const inodes = metricValue(fs, 'inodes', path, section, FILESYSTEM_INODES, report);
  if (inodes !== undefined) labeled.push({ name: 'filesystem/inodes', labels, value: inodes });
  const inodesFree = metricValue(fs, 'inodesFree', path, section, FILESYSTEM_INODES_FREE, report);
  if (inodesFree !== undefined) labeled.push({ name: 'filesystem/inodes_free', labels, value: inodesFree });
  return used;
}

function addAccelerators(
  labeled: LabeledValue[],
  accelerators: readonly unknown[],
  path: string,
  report: DecodeReport,
): void {
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
    const total = metricValue(
      accelerator,
      'memoryTotal',
      acceleratorPath,
      '',
      ACCELERATOR_MEMORY_TOTAL,
      report,
    );
    if (total !== undefined) labeled.push({ name: 'accelerator/memory_total', labels, value: total });
    const used = metricValue(accelerator, 'memoryUsed', acceleratorPath, '', ACCELERATOR_MEMORY_USED, report);
    if (used !== undefined) labeled.push({ name: 'accelerator/memory_used', labels, value: used });
    const dutyCycle = metricValue(
      accelerator,
      'dutyCycle',
      acceleratorPath,
      '',
      ACCELERATOR_DUTY_CYCLE,
      report,
    );
    if (dutyCycle !== undefined) labeled.push({ name: 'accelerator/duty_cycle', labels, value: dutyCycle });
  }
}

function addUserMetrics(
  values: SetValues,
  metrics: readonly unknown[],
  path: string,
  report: DecodeReport,
): void {
  for (let i = 0; i < metrics.length; i++) {
    const metric = elementObject(metrics, i, path, 'userDefinedMetrics');
    const metricPath = `${path}.userDefinedMetrics[${i}]`;
    const type = metric['type'];
    // Heapster keeps gauge, cumulative and delta metrics and skips any other type.
    if (type !== 'gauge' && type !== 'cumulative' && type !== 'delta') continue;
    const name = requiredString(metric, 'name', metricPath, '');
    const value = optionalNumber(metric, 'value', metricPath, '');
    if (value === undefined) continue;
    if (fitsMetric(CUSTOM_METRIC_KIND, value)) values.set(CUSTOM_METRIC_PREFIX + name, value);
    else
      report.valueOutOfRange(`${metricPath}.value`, CUSTOM_METRIC_PREFIX + name, CUSTOM_METRIC_KIND, value);
  }
}
