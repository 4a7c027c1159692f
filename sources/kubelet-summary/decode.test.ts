import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError, ScrapeError } from '../../src/component/errors.js';
import { DecodeReport, type DecodeOptions } from '../../src/model/decode-report.js';
import { metricByName } from '../../src/model/catalogue.js';
import type { Labels } from '../../src/model/labels.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import type { NodeInfo } from './decode.js';
import { decodeSummaryBytes } from './decode-bytes.js';
import type {
  SummaryContainer,
  SummaryCpu,
  SummaryFs,
  SummaryMemory,
  SummaryNetwork,
  SummaryPayload,
  SummaryPod,
} from '../../test/support/summary-types.js';
import { SetValues } from '../../src/model/set-values.js';

/**
 * Every test below decodes through the path the source takes: the payload written as the JSON text a kubelet
 * would send, decoded from its bytes by decodeSummaryBytes (which hands decodeSummary the fields it reads).
 * JSON has no Infinity: it is written as 1e999, which reads back as Infinity.
 */
function decodeSummary(payload: unknown, node: NodeInfo, options: DecodeOptions = {}): MetricSet[] {
  return decodeSummaryBytes(Buffer.from(jsonText(payload)), node, options);
}

function jsonText(payload: unknown): string {
  const text = JSON.stringify(payload, (_key, value: unknown) =>
    value === Infinity ? '@infinity' : value === -Infinity ? '@-infinity' : value,
  );
  return text.replaceAll('"@infinity"', '1e999').replaceAll('"@-infinity"', '-1e999');
}

/** The kubelet's uint64 "unknown" sentinel, as JSON.parse reads it (2^64). */
const UINT64_MAX = JSON.parse('18446744073709551615') as number;
const REFERENCE_DIR = new URL('../../../shared/reference/heapster-golden-unit/', import.meta.url);
const FIXTURES_DIR = new URL('../../../shared/fixtures/kubelet/', import.meta.url);

function byKey(sets: readonly MetricSet[]): Map<string, MetricSet> {
  return new Map(sets.map((set) => [set.key, set]));
}

// ---------------------------------------------------------------------------------------------------------
// A1: Heapster's TestDecodeSummaryMetrics, rebuilt as a payload. Every stat = seed + offset.
// ---------------------------------------------------------------------------------------------------------

const START = '2024-05-01T10:00:00Z';
const ONE_MINUTE_EARLIER = '2024-05-01T09:59:00Z';
const SCRAPE = '2024-05-01T10:01:00Z';
const START_MS = Date.parse(START);
const SCRAPE_MS = Date.parse(SCRAPE);

const OFFSET = {
  cpuUsageNanoCores: 0,
  cpuUsageCoreNanoSeconds: 1,
  pageFaults: 2,
  majorPageFaults: 3,
  memoryUsage: 4,
  rss: 5,
  workingSet: 6,
  rx: 7,
  rxErrors: 8,
  tx: 9,
  txErrors: 10,
  fsUsed: 11,
  fsCapacity: 12,
  fsAvailable: 13,
  acceleratorMemoryTotal: 14,
  acceleratorMemoryUsed: 15,
  acceleratorDutyCycle: 16,
} as const;

const a1Node: NodeInfo = { name: 'test', hostname: 'test-hostname', hostId: '1234567890' };
const GPU = { make: 'nvidia', model: 'Tesla P100', id: 'GPU-deadbeef-1234-5678-90ab-feedfacecafe' };

function genCpu(seed: number): SummaryCpu {
  return {
    time: SCRAPE,
    usageNanoCores: (seed + OFFSET.cpuUsageNanoCores) * 1e6,
    usageCoreNanoSeconds: seed + OFFSET.cpuUsageCoreNanoSeconds,
  };
}

function genMemory(seed: number): SummaryMemory {
  return {
    time: SCRAPE,
    usageBytes: seed + OFFSET.memoryUsage,
    workingSetBytes: seed + OFFSET.workingSet,
    rssBytes: seed + OFFSET.rss,
    pageFaults: seed + OFFSET.pageFaults,
    majorPageFaults: seed + OFFSET.majorPageFaults,
  };
}

function genNetwork(seed: number): SummaryNetwork {
  return {
    time: SCRAPE,
    rxBytes: seed + OFFSET.rx,
    rxErrors: seed + OFFSET.rxErrors,
    txBytes: seed + OFFSET.tx,
    txErrors: seed + OFFSET.txErrors,
  };
}

function genFs(seed: number): SummaryFs {
  return {
    availableBytes: seed + OFFSET.fsAvailable,
    capacityBytes: seed + OFFSET.fsCapacity,
    usedBytes: seed + OFFSET.fsUsed,
  };
}

function genContainer(name: string, seed: number): SummaryContainer {
  return {
    name,
    startTime: START,
    cpu: genCpu(seed),
    memory: genMemory(seed),
    rootfs: genFs(seed),
    logs: genFs(seed),
  };
}

/** Heapster's genTestSummaryTerminatedContainer: older start, zero rss and usageNanoCores. */
function genTerminatedContainer(name: string, seed: number): SummaryContainer {
  return {
    name,
    startTime: ONE_MINUTE_EARLIER,
    cpu: { time: SCRAPE, usageNanoCores: 0, usageCoreNanoSeconds: (seed + 1) * 1e6 },
    memory: { ...genMemory(seed), rssBytes: 0 },
    rootfs: genFs(seed),
    logs: genFs(seed),
  };
}

function a1Payload(): SummaryPayload {
  const pod = (namespace: string, name: string, rest: Omit<SummaryPod, 'podRef'>): SummaryPod => ({
    podRef: { name, namespace },
    ...rest,
  });
  return {
    node: {
      nodeName: 'test',
      startTime: START,
      cpu: genCpu(0),
      memory: genMemory(0),
      network: genNetwork(0),
      fs: genFs(0),
      systemContainers: [
        genContainer('kubelet', 200),
        genContainer('runtime', 100),
        genContainer('misc', 300),
      ],
    },
    pods: [
      pod('test0', 'pod0', {
        startTime: START,
        cpu: genCpu(1000),
        memory: genMemory(1000),
        network: genNetwork(1000),
        'ephemeral-storage': genFs(1000),
        containers: [genContainer('c0', 2000), genContainer('c1', 2001), genTerminatedContainer('c0', 2000)],
      }),
      pod('test0', 'pod1', {
        startTime: START,
        network: genNetwork(3000),
        containers: [genContainer('c0', 4000)],
        volume: [
          { name: 'A', ...genFs(3000) },
          { name: 'B', ...genFs(3000) },
        ],
      }),
      pod('test1', 'pod0', {
        startTime: START,
        network: genNetwork(5000),
        containers: [genContainer('c1', 6000), genContainer('runtime', 7000)],
      }),
      pod('test0', 'pod2', {
        containers: [genContainer('c3', 9000)],
        volume: [
          {
            name: 'C',
            availableBytes: 1130,
            usedBytes: 13340,
            capacityBytes: 2153,
            inodesFree: 10440,
            inodesUsed: 103520,
            inodes: 103620,
          },
        ],
      }),
      pod('test0', 'pod4', {
        startTime: START,
        network: genNetwork(10000),
        containers: [
          genContainer('c4', 11000),
          { name: 'c4', startTime: ONE_MINUTE_EARLIER },
          { name: 'c4', startTime: ONE_MINUTE_EARLIER, cpu: { time: SCRAPE }, memory: { time: SCRAPE } },
        ],
      }),
      pod('test0', 'pod5', {
        startTime: START,
        network: genNetwork(12000),
        containers: [
          {
            name: 'c5',
            startTime: START,
            cpu: genCpu(13000),
            accelerators: [
              {
                ...GPU,
                memoryTotal: 13000 + OFFSET.acceleratorMemoryTotal,
                memoryUsed: 13000 + OFFSET.acceleratorMemoryUsed,
                dutyCycle: 13000 + OFFSET.acceleratorDutyCycle,
              },
            ],
          },
        ],
      }),
    ],
  };
}

interface A1Expectation {
  readonly key: string;
  readonly labels: Labels;
  readonly seed: number;
  readonly cpu?: boolean;
  readonly memory?: boolean;
  readonly network?: boolean;
  /** resource_ids of seed-generated filesystems (usage, limit, available; no inodes). */
  readonly fs?: readonly string[];
  /** ephemeral_storage/usage, when expected. */
  readonly ephemeral?: number;
}

const A1_HOST = { nodename: 'test', hostname: 'test-hostname', host_id: '1234567890' };

function a1Pod(namespace: string, pod: string): Labels {
  return { ...A1_HOST, type: 'pod', pod_name: pod, namespace_name: namespace };
}

function a1Container(namespace: string, pod: string, container: string): Labels {
  return { ...a1Pod(namespace, pod), type: 'pod_container', container_name: container };
}

function a1System(container: string): Labels {
  return { ...A1_HOST, type: 'sys_container', container_name: container };
}

/** The set Heapster builds from a seed-generated object, with our uptime rule (scrape − start = 60 s). */
function a1Expected(e: A1Expectation): MetricSet {
  const values = SetValues.from({ uptime: SCRAPE_MS - START_MS });
  const s = e.seed;
  if (e.cpu === true) values.set('cpu/usage', s + OFFSET.cpuUsageCoreNanoSeconds);
  if (e.memory === true) {
    values.set('memory/usage', s + OFFSET.memoryUsage);
    values.set('memory/working_set', s + OFFSET.workingSet);
    values.set('memory/rss', s + OFFSET.rss);
    values.set('memory/page_faults', s + OFFSET.pageFaults);
    values.set('memory/major_page_faults', s + OFFSET.majorPageFaults);
  }
  if (e.network === true) {
    values.set('network/rx', s + OFFSET.rx);
    values.set('network/rx_errors', s + OFFSET.rxErrors);
    values.set('network/tx', s + OFFSET.tx);
    values.set('network/tx_errors', s + OFFSET.txErrors);
  }
  if (e.ephemeral !== undefined) values.set('ephemeral_storage/usage', e.ephemeral);
  const labeled: LabeledValue[] = [];
  for (const resourceId of e.fs ?? []) {
    const labels = { resource_id: resourceId };
    labeled.push(
      { name: 'filesystem/usage', labels, value: s + OFFSET.fsUsed },
      { name: 'filesystem/limit', labels, value: s + OFFSET.fsCapacity },
      { name: 'filesystem/available', labels, value: s + OFFSET.fsAvailable },
    );
  }
  const type = e.labels['type'] as MetricSet['type'];
  return { type, key: e.key, labels: e.labels, values, labeled, scrapeTime: SCRAPE_MS, startTime: START_MS };
}

/** A seed-generated container: cpu, memory, rootfs "/" and logs, ephemeral = rootfs.used + logs.used. */
function a1FullContainer(key: string, labels: Labels, seed: number): MetricSet {
  const ephemeral = 2 * (seed + OFFSET.fsUsed);
  return a1Expected({ key, labels, seed, cpu: true, memory: true, fs: ['/', 'logs'], ephemeral });
}

function a1ExpectedSets(): MetricSet[] {
  return [
    a1Expected({
      key: 'node:test',
      labels: { ...A1_HOST, type: 'node' },
      seed: 0,
      cpu: true,
      memory: true,
      network: true,
      fs: ['/'],
      ephemeral: 11,
    }),
    // System containers go through Heapster's decodeContainerStats, so their rootfs and logs count too.
    a1FullContainer('node:test/container:kubelet', a1System('kubelet'), 200),
    a1FullContainer('node:test/container:docker-daemon', a1System('docker-daemon'), 100),
    a1FullContainer('node:test/container:system', a1System('system'), 300),
    a1Expected({
      key: 'namespace:test0/pod:pod0',
      labels: a1Pod('test0', 'pod0'),
      seed: 1000,
      cpu: true,
      memory: true,
      network: true,
      ephemeral: 1011,
    }),
    a1FullContainer('namespace:test0/pod:pod0/container:c0', a1Container('test0', 'pod0', 'c0'), 2000),
    a1FullContainer('namespace:test0/pod:pod0/container:c1', a1Container('test0', 'pod0', 'c1'), 2001),
    a1Expected({
      key: 'namespace:test0/pod:pod1',
      labels: a1Pod('test0', 'pod1'),
      seed: 3000,
      network: true,
      fs: ['Volume:A', 'Volume:B'],
    }),
    a1FullContainer('namespace:test0/pod:pod1/container:c0', a1Container('test0', 'pod1', 'c0'), 4000),
    a1Expected({
      key: 'namespace:test1/pod:pod0',
      labels: a1Pod('test1', 'pod0'),
      seed: 5000,
      network: true,
    }),
    a1FullContainer('namespace:test1/pod:pod0/container:c1', a1Container('test1', 'pod0', 'c1'), 6000),
    a1FullContainer(
      'namespace:test1/pod:pod0/container:runtime',
      a1Container('test1', 'pod0', 'runtime'),
      7000,
    ),
    {
      type: 'pod',
      key: 'namespace:test0/pod:pod2',
      labels: a1Pod('test0', 'pod2'),
      values: new SetValues(),
      labeled: [
        { name: 'filesystem/usage', labels: { resource_id: 'Volume:C' }, value: 13340 },
        { name: 'filesystem/limit', labels: { resource_id: 'Volume:C' }, value: 2153 },
        { name: 'filesystem/available', labels: { resource_id: 'Volume:C' }, value: 1130 },
        { name: 'filesystem/inodes', labels: { resource_id: 'Volume:C' }, value: 103620 },
        { name: 'filesystem/inodes_free', labels: { resource_id: 'Volume:C' }, value: 10440 },
      ],
      scrapeTime: 0,
      startTime: 0,
    },
    a1FullContainer('namespace:test0/pod:pod2/container:c3', a1Container('test0', 'pod2', 'c3'), 9000),
    a1Expected({
      key: 'namespace:test0/pod:pod4',
      labels: a1Pod('test0', 'pod4'),
      seed: 10000,
      network: true,
    }),
    a1FullContainer('namespace:test0/pod:pod4/container:c4', a1Container('test0', 'pod4', 'c4'), 11000),
    a1Expected({
      key: 'namespace:test0/pod:pod5',
      labels: a1Pod('test0', 'pod5'),
      seed: 12000,
      network: true,
    }),
    {
      ...a1Expected({
        key: 'namespace:test0/pod:pod5/container:c5',
        labels: a1Container('test0', 'pod5', 'c5'),
        seed: 13000,
        cpu: true,
      }),
      labeled: [
        { name: 'accelerator/memory_total', labels: GPU_LABELS, value: 13014 },
        { name: 'accelerator/memory_used', labels: GPU_LABELS, value: 13015 },
        { name: 'accelerator/duty_cycle', labels: GPU_LABELS, value: 13016 },
      ],
    },
  ];
}

const GPU_LABELS = { make: GPU.make, model: GPU.model, accelerator_id: GPU.id };

describe('decodeSummary: Heapster TestDecodeSummaryMetrics (A1)', () => {
  const sets = decodeSummary(a1Payload(), a1Node);
  const decoded = byKey(sets);

  it('produces exactly the expected keys, once each', () => {
    const expectedKeys = a1ExpectedSets().map((set) => set.key);
    expect(sets.map((set) => set.key).sort()).toEqual([...expectedKeys].sort());
    expect(sets).toHaveLength(18);
  });

  it('produces exactly the expected values, labels and times for every set', () => {
    for (const expected of a1ExpectedSets()) {
      expect(decoded.get(expected.key), expected.key).toEqual(expected);
    }
  });

  it('matches the digest numbers literally', () => {
    const get = (key: string): MetricSet => {
      const set = decoded.get(key);
      if (set === undefined) throw new Error(`missing ${key}`);
      return set;
    };
    expect(get('node:test').values).toMatchObject({ 'cpu/usage': 1, 'network/tx_errors': 10 });
    expect(get('node:test/container:docker-daemon').values.get('cpu/usage')).toBe(101);
    expect(get('node:test/container:system').values.get('memory/rss')).toBe(305);
    expect(get('namespace:test0/pod:pod0').values.get('ephemeral_storage/usage')).toBe(1011);
    expect(get('namespace:test0/pod:pod5/container:c5').values).toEqual({
      uptime: 60_000,
      'cpu/usage': 13001,
    });
    expect(get('namespace:test1/pod:pod0/container:runtime').labels['container_name']).toBe('runtime');
  });

  it('drops the older duplicate c0 (rss 0) and keeps the running one', () => {
    const c0 = decoded.get('namespace:test0/pod:pod0/container:c0');
    expect(c0?.values.get('memory/rss')).toBe(2005);
    expect(c0?.values.get('ephemeral_storage/usage')).toBe(4022);
    expect(c0?.startTime).toBe(START_MS);
  });

  it('drops the terminated c4 entries without stats and with blank stats', () => {
    const c4 = decoded.get('namespace:test0/pod:pod4/container:c4');
    expect(c4?.values.get('cpu/usage')).toBe(11001);
    expect(c4?.values.get('memory/usage')).toBe(11004);
  });

  it('gives pod2 no uptime and zero times: it has no startTime and no stats', () => {
    const pod2 = decoded.get('namespace:test0/pod:pod2');
    expect(pod2?.values).toEqual({});
    expect(pod2?.startTime).toBe(0);
    expect(pod2?.scrapeTime).toBe(0);
  });

  it('emits no pod_id label for pods without a uid (empty labels are omitted)', () => {
    expect(decoded.get('namespace:test0/pod:pod1')?.labels).not.toHaveProperty('pod_id');
  });

  it('shares one labels object between the filesystem values of one volume', () => {
    const labeled = decoded.get('namespace:test0/pod:pod1')?.labeled ?? [];
    const volumeA = labeled.filter((value) => value.labels['resource_id'] === 'Volume:A');
    expect(volumeA).toHaveLength(3);
    expect(volumeA[1]?.labels).toBe(volumeA[0]?.labels);
    expect(volumeA[2]?.labels).toBe(volumeA[0]?.labels);
  });
});

// ---------------------------------------------------------------------------------------------------------
// B1: Heapster run on summary_input.json, output in summary_golden.txt.
// ---------------------------------------------------------------------------------------------------------

interface GoldenValue {
  readonly value: number | 'wall-clock';
  readonly valueType: string;
  readonly kind: string;
}

interface GoldenSet {
  readonly key: string;
  readonly startTime: number;
  readonly scrapeTime: number;
  readonly labels: Record<string, string>;
  readonly values: Map<string, GoldenValue>;
  readonly labeled: LabeledValue[];
}

/** Go's zero time, which Heapster prints for "no time"; our sets say 0. */
function goldenTime(text: string): number {
  return text.startsWith('0001-01-01') ? 0 : Date.parse(text);
}

function parseGolden(text: string): Map<string, GoldenSet> {
  const sets = new Map<string, GoldenSet>();
  let current: GoldenSet | undefined;
  for (const line of text.split('\n')) {
    if (/^(namespace|node):/.test(line)) {
      current = { key: line.trim(), startTime: 0, scrapeTime: 0, labels: {}, values: new Map(), labeled: [] };
      sets.set(current.key, current);
      continue;
    }
    if (current === undefined) continue;
    const times = /^ {2}CollectionStartTime=(\S+) ScrapeTime=(\S+)$/.exec(line);
    const label = /^ {2}label (\S+)="(.*)"$/.exec(line);
    const value = /^ {2}(\S+) = (.+) \((\w+), (\w+)\)$/.exec(line);
    const labeled = /^ {2}\[labeled\] (\S+) \[(.*)\] = (\S+)$/.exec(line);
    if (times?.[1] !== undefined && times[2] !== undefined) {
      current = { ...current, startTime: goldenTime(times[1]), scrapeTime: goldenTime(times[2]) };
      sets.set(current.key, current);
    } else if (label?.[1] !== undefined && label[2] !== undefined) {
      current.labels[label[1]] = label[2];
    } else if (value?.[1] !== undefined && value[2] !== undefined && value[3] !== undefined) {
      const parsed = value[2].startsWith('<') ? 'wall-clock' : Number(value[2]);
      current.values.set(value[1], { value: parsed, valueType: value[3], kind: value[4] ?? '' });
    } else if (labeled?.[1] !== undefined && labeled[2] !== undefined && labeled[3] !== undefined) {
      const labels = Object.fromEntries(
        labeled[2]
          .split(' ')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      current.labeled.push({ name: labeled[1], labels, value: Number(labeled[3]) });
    }
  }
  return sets;
}

describe('decodeSummary: Heapster golden summary (B1)', () => {
  const input: unknown = JSON.parse(readFileSync(new URL('summary_input.json', REFERENCE_DIR), 'utf8'));
  const golden = parseGolden(readFileSync(new URL('summary_golden.txt', REFERENCE_DIR), 'utf8'));
  const sets = decodeSummary(input, { name: 'n1', hostname: 'n1.host', hostId: 'hid-1' });
  const decoded = byKey(sets);

  it('reads the golden file (guards the parser of this test)', () => {
    expect(golden.size).toBe(9);
    expect(golden.get('node:n1')?.values.get('cpu/usage')?.value).toBe(5_400_000_000_000);
  });

  it('produces the same set keys as Heapster', () => {
    expect([...decoded.keys()].sort()).toEqual([...golden.keys()].sort());
    expect(sets).toHaveLength(golden.size);
  });

  for (const [key, expected] of golden) {
    it(`matches ${key}: labels, times, values, labeled values`, () => {
      const set = decoded.get(key);
      expect(set).toBeDefined();
      if (set === undefined) return;
      expect(set.labels).toEqual(expected.labels);
      expect(set.type).toBe(expected.labels['type']);
      expect(set.startTime).toBe(expected.startTime);
      expect(set.scrapeTime).toBe(expected.scrapeTime);

      const values = new SetValues();
      for (const [name, golden] of expected.values) {
        if (name === 'uptime') continue;
        values.set(name, golden.value as number);
        const isInt = Number.isInteger(set.values.get(name));
        expect(golden.valueType === 'int64' ? isInt : true, `${name} is an integer`).toBe(true);
      }
      // Our deliberate difference: uptime = the kubelet's scrape time − start time, only when both are known.
      if (set.startTime !== 0 && set.scrapeTime !== 0) values.set('uptime', set.scrapeTime - set.startTime);
      expect(set.values).toEqual(values);
      expect(set.labeled).toEqual(expected.labeled);
    });
  }

  it('computes uptime from the kubelet clock: web pod 01:00:06 − 00:30:00', () => {
    expect(decoded.get('namespace:ns1/pod:web')?.values.get('uptime')).toBe(1_806_000);
    expect(decoded.get('node:n1')?.values.get('uptime')).toBe(3_600_000);
  });

  it('omits uptime for container "side", which has no cpu/memory time (Heapster used wall-clock now)', () => {
    expect(golden.get('namespace:ns1/pod:web/container:side')?.values.has('uptime')).toBe(true);
    expect(decoded.get('namespace:ns1/pod:web/container:side')?.values).toEqual({});
  });

  it('keeps custom metrics as floats and skips the histogram-typed one', () => {
    const app = decoded.get('namespace:ns1/pod:web/container:app');
    expect(app?.values.get('custom/qps')).toBe(12.5);
    expect(app?.values).not.toHaveProperty('custom/weird');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real payloads: every stats-summary*.json under shared/fixtures/kubelet decodes, spot-checked.
// ---------------------------------------------------------------------------------------------------------

interface Fixture {
  readonly name: string;
  readonly payload: RawPayload;
}

// A loose view of a real payload for spot checks; the decoder validates the shapes itself.
interface RawStats {
  readonly time?: string;
  readonly usageCoreNanoSeconds?: number;
  readonly workingSetBytes?: number;
  readonly usedBytes?: number;
}
interface RawContainer {
  readonly name: string;
  readonly cpu?: RawStats;
  readonly memory?: RawStats;
}
interface RawPayload {
  readonly node: {
    readonly nodeName: string;
    readonly startTime: string;
    readonly cpu: RawStats;
    readonly memory: RawStats;
    readonly fs: RawStats;
    readonly systemContainers: readonly RawContainer[];
  };
  readonly pods: readonly {
    readonly podRef: { readonly name: string; readonly namespace: string; readonly uid: string };
    readonly network?: RawStats;
    readonly cpu?: RawStats;
    readonly containers: readonly RawContainer[];
    readonly volume?: readonly (RawStats & { readonly name: string })[];
  }[];
}

function loadFixtures(): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const dir of readdirSync(FIXTURES_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const file of readdirSync(new URL(`${dir.name}/`, FIXTURES_DIR))) {
      if (!/^stats-summary.*\.json$/.test(file)) continue;
      const text = readFileSync(new URL(`${dir.name}/${file}`, FIXTURES_DIR), 'utf8');
      fixtures.push({ name: `${dir.name}/${file}`, payload: JSON.parse(text) as RawPayload });
    }
  }
  return fixtures;
}

const fixtures = loadFixtures();

describe('decodeSummary: real kubelet payloads', () => {
  it('finds the captured payloads', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (_name, { payload }) => {
    const node = payload.node;
    const sets = decodeSummary(payload, { name: node.nodeName });
    const decoded = byKey(sets);

    const nodeSet = decoded.get(`node:${node.nodeName}`);
    expect(nodeSet?.type).toBe('node');
    expect(nodeSet?.labels).toEqual({ nodename: node.nodeName, hostname: node.nodeName, type: 'node' });
    expect(nodeSet?.values.get('cpu/usage')).toBe(node.cpu.usageCoreNanoSeconds);
    expect(nodeSet?.values.get('memory/working_set')).toBe(node.memory.workingSetBytes);
    expect(nodeSet?.values.get('ephemeral_storage/usage')).toBe(node.fs.usedBytes);
    expect(nodeSet?.startTime).toBe(Date.parse(node.startTime));
    expect(nodeSet?.scrapeTime).toBe(Date.parse(node.cpu.time ?? ''));

    const systemSets = sets.filter((set) => set.type === 'sys_container');
    expect(systemSets).toHaveLength(node.systemContainers.length);
    for (const container of node.systemContainers) {
      const name = container.name === 'runtime' ? 'docker-daemon' : container.name;
      const set = decoded.get(`node:${node.nodeName}/container:${name}`);
      expect(set?.values.get('cpu/usage')).toBe(container.cpu?.usageCoreNanoSeconds);
    }

    expect(sets.filter((set) => set.type === 'pod')).toHaveLength(payload.pods.length);
    let containers = 0;
    for (const pod of payload.pods) {
      const { namespace, name, uid } = pod.podRef;
      const podSet = decoded.get(`namespace:${namespace}/pod:${name}`);
      expect(podSet?.labels['pod_id']).toBe(uid);
      expect(podSet?.values.get('cpu/usage')).toBe(pod.cpu?.usageCoreNanoSeconds);
      // Pods without network stats (host network) take their scrape time from cpu.
      expect(podSet?.scrapeTime).toBe(Date.parse(pod.network?.time ?? pod.cpu?.time ?? ''));
      for (const container of pod.containers) {
        containers++;
        const set = decoded.get(`namespace:${namespace}/pod:${name}/container:${container.name}`);
        expect(set?.values.get('memory/working_set')).toBe(container.memory?.workingSetBytes);
        expect(set?.values.get('cpu/usage')).toBe(container.cpu?.usageCoreNanoSeconds);
        expect(set?.labels['container_name']).toBe(container.name);
      }
      for (const volume of pod.volume ?? []) {
        const usage = podSet?.labeled.find(
          (value) =>
            value.name === 'filesystem/usage' && value.labels['resource_id'] === `Volume:${volume.name}`,
        );
        expect(usage?.value).toBe(volume.usedBytes);
      }
    }
    expect(sets.filter((set) => set.type === 'pod_container')).toHaveLength(containers);

    for (const set of sets) {
      for (const [name, value] of set.values) {
        if (metricByName(name)?.valueType === 'int') expect(Number.isInteger(value), name).toBe(true);
      }
      for (const value of set.labeled) expect(Number.isInteger(value.value), value.name).toBe(true);
      if (set.startTime !== 0 && set.scrapeTime !== 0) {
        expect(set.values.get('uptime')).toBe(Math.max(0, set.scrapeTime - set.startTime));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Rules beyond the Heapster tests and our deliberate differences.
// ---------------------------------------------------------------------------------------------------------

function onePod(pod: Partial<SummaryPod>): SummaryPayload {
  return {
    node: { nodeName: 'n1' },
    pods: [{ podRef: { name: 'p', namespace: 'ns', uid: 'u1' }, ...pod }],
  };
}

describe('decodeSummary: edge rules', () => {
  it('omits ephemeral_storage/usage when rootfs.usedBytes is null (Heapster panicked)', () => {
    const payload = onePod({
      containers: [{ name: 'c', rootfs: { usedBytes: null, capacityBytes: 10 }, logs: { usedBytes: 3 } }],
    });
    const container = byKey(decodeSummary(payload, { name: 'n1' })).get('namespace:ns/pod:p/container:c');
    expect(container?.values).toEqual({});
    expect(container?.labeled.map((value) => [value.name, value.labels['resource_id'], value.value])).toEqual(
      [
        ['filesystem/limit', '/', 10],
        ['filesystem/usage', 'logs', 3],
      ],
    );
  });

  it("falls back to the pod's cpu.time, then memory.time, when it has no network stats", () => {
    const cpuOnly = onePod({
      cpu: { time: '2020-01-01T00:00:05Z' },
      memory: { time: '2020-01-01T00:00:07Z' },
    });
    const memoryOnly = onePod({ memory: { time: '2020-01-01T00:00:07Z' } });
    const withNetwork = onePod({
      cpu: { time: '2020-01-01T00:00:05Z' },
      network: { time: '2020-01-01T00:00:06Z' },
    });
    const scrapeOf = (payload: SummaryPayload): number | undefined =>
      byKey(decodeSummary(payload, { name: 'n1' })).get('namespace:ns/pod:p')?.scrapeTime;
    expect(scrapeOf(cpuOnly)).toBe(Date.parse('2020-01-01T00:00:05Z'));
    expect(scrapeOf(memoryOnly)).toBe(Date.parse('2020-01-01T00:00:07Z'));
    expect(scrapeOf(withNetwork)).toBe(Date.parse('2020-01-01T00:00:06Z'));
  });

  it('lets the later of two duplicate containers with equal start times win', () => {
    const start = '2020-01-01T00:00:00Z';
    const payload = onePod({
      containers: [
        { name: 'c', startTime: start, cpu: { usageCoreNanoSeconds: 1 } },
        { name: 'c', startTime: start, cpu: { usageCoreNanoSeconds: 2 } },
      ],
    });
    const sets = decodeSummary(payload, { name: 'n1' });
    expect(sets.filter((set) => set.type === 'pod_container')).toHaveLength(1);
    expect(byKey(sets).get('namespace:ns/pod:p/container:c')?.values.get('cpu/usage')).toBe(2);
  });

  it('replaces an older duplicate container with a newer one listed after it', () => {
    const payload = onePod({
      containers: [
        { name: 'c', startTime: '2020-01-01T00:00:00Z', cpu: { usageCoreNanoSeconds: 1 } },
        { name: 'c', startTime: '2020-01-01T00:05:00Z', cpu: { usageCoreNanoSeconds: 2 } },
      ],
    });
    const container = byKey(decodeSummary(payload, { name: 'n1' })).get('namespace:ns/pod:p/container:c');
    expect(container?.values.get('cpu/usage')).toBe(2);
  });

  it('defaults hostname to the node name and sets host_id only when known', () => {
    const [nodeSet] = decodeSummary({ node: { nodeName: 'n1' } }, { name: 'n1', hostId: '' });
    expect(nodeSet?.labels).toEqual({ nodename: 'n1', hostname: 'n1', type: 'node' });
  });

  it('keeps sub-millisecond times and a whole-ms uptime', () => {
    const payload = {
      node: {
        nodeName: 'n1',
        startTime: '2020-01-01T00:00:00Z',
        cpu: { time: '2020-01-01T00:00:01.000250Z' },
      },
    };
    const [nodeSet] = decodeSummary(payload, { name: 'n1' });
    expect(nodeSet?.scrapeTime).toBe(Date.parse('2020-01-01T00:00:01Z') + 0.25);
    expect(nodeSet?.values.get('uptime')).toBe(1000);
  });

  it('treats Go zero times and nulls as absent', () => {
    const payload = { node: { nodeName: 'n1', startTime: '0001-01-01T00:00:00Z', cpu: { time: null } } };
    const [nodeSet] = decodeSummary(payload, { name: 'n1' });
    expect(nodeSet?.startTime).toBe(0);
    expect(nodeSet?.scrapeTime).toBe(0);
    expect(nodeSet?.values).toEqual({});
  });

  it('keeps values up to 2^53 exact and integral', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const [nodeSet] = decodeSummary(
      { node: { nodeName: 'n1', cpu: { usageCoreNanoSeconds: big } } },
      { name: 'n' },
    );
    expect(nodeSet?.values.get('cpu/usage')).toBe(big);
  });
});

describe('decodeSummary: values a metric cannot hold are omitted and reported, not fatal', () => {
  const payload = {
    node: {
      nodeName: 'n1',
      cpu: { usageCoreNanoSeconds: -1 },
      memory: { usageBytes: 2 ** 63, workingSetBytes: 5 },
      fs: { capacityBytes: UINT64_MAX, usedBytes: 7 },
    },
    pods: [
      {
        podRef: { name: 'p', namespace: 'ns' },
        containers: [
          {
            name: 'c',
            rootfs: { usedBytes: 2 ** 62 },
            logs: { usedBytes: 2 ** 62 },
            userDefinedMetrics: [{ name: 'm', type: 'gauge', value: Infinity }],
          },
        ],
      },
    ],
  };

  it('omits each one, keeps the rest, and reports the count and the first JSON path', () => {
    const report = new DecodeReport();
    const sets = byKey(decodeSummary(payload, { name: 'n1' }, { report }));
    const node = sets.get('node:n1');
    expect(node?.values).toEqual({ 'memory/working_set': 5, 'ephemeral_storage/usage': 7 });
    expect(node?.labeled.map((v) => v.name)).toEqual(['filesystem/usage']);
    const container = sets.get('namespace:ns/pod:p/container:c');
    // 2^62 + 2^62 is 2^63: each part fits, the sum does not.
    expect(container?.values.get('ephemeral_storage/usage')).toBeUndefined();
    expect(container?.values.get('custom/m')).toBeUndefined();
    expect(report.valuesOmitted).toBe(5);
    expect(report.firstValue).toBe(
      'node.cpu.usageCoreNanoSeconds: -1 is not an integer in [0, 2^63), as cpu/usage must be; omitted',
    );
  });

  it('keeps a fractional counter a DecodeError: no uint64 encoder writes one', () => {
    const fractional = { node: { nodeName: 'n1', cpu: { usageCoreNanoSeconds: 1.5 } } };
    expect(() => decodeSummary(fractional, { name: 'n1' })).toThrow(DecodeError);
  });

  it('fails the node with too_large past maxSets, before decoding the pods', () => {
    const many = { node: { nodeName: 'n1' }, pods: [{}, {}, {}] };
    expect(() => decodeSummary(many, { name: 'n1' }, { maxSets: 2 })).toThrow(ScrapeError);
    expect(() => decodeSummary(many, { name: 'n1' }, { maxSets: 2 })).toThrow(
      'node n1: the Summary holds 3 pods, over max_sets_per_node (2)',
    );
    const containers = {
      node: { nodeName: 'n1' },
      pods: [{ podRef: { name: 'p', namespace: 'ns' }, containers: [{ name: 'a' }, { name: 'b' }] }],
    };
    expect(decodeSummary(containers, { name: 'n1' }, { maxSets: 4 })).toHaveLength(4);
    expect(() => decodeSummary(containers, { name: 'n1' }, { maxSets: 3 })).toThrow(
      'more than 3 sets, over max_sets_per_node (3)',
    );
  });
});

describe('decodeSummary: malformed payloads throw a DecodeError naming the path', () => {
  const base = (): SummaryPayload => ({
    node: {
      nodeName: 'n1',
      systemContainers: [{ name: 'kubelet', memory: { usageBytes: 1 } }],
    },
    pods: [0, 1, 2, 3].map((i) => ({
      podRef: { name: `p${i}`, namespace: 'ns' },
      volume: [{ name: 'v', usedBytes: 1 }],
      containers: [
        { name: 'a', cpu: { usageCoreNanoSeconds: 1 } },
        {
          name: 'b',
          cpu: { usageCoreNanoSeconds: 1 },
          userDefinedMetrics: [{ name: 'm', type: 'gauge', value: 1 }],
        },
      ],
    })),
  });
  const DELETE = Symbol('delete');
  /** The base payload with the value at `path` replaced (or deleted). */
  const changed = (path: readonly (string | number)[], value: unknown): unknown => {
    const payload: unknown = structuredClone(base());
    let target = payload as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) target = target[step] as Record<string | number, unknown>;
    const last = path[path.length - 1] ?? '';
    if (value === DELETE) delete target[last];
    else target[last] = value;
    return payload;
  };

  const cases: [string, unknown, string][] = [
    ['payload null', null, 'payload: expected an object, got null'],
    ['payload a string', 'oops', 'payload: expected an object, got string'],
    ['payload an array', [], 'payload: expected an object, got array'],
    ['node missing', changed(['node'], DELETE), 'node: expected an object, got undefined'],
    ['node a string', changed(['node'], 'n1'), 'node: expected an object, got string'],
    ['nodeName a number', changed(['node', 'nodeName'], 7), 'node.nodeName: expected a string, got number 7'],
    [
      'nodeName missing',
      changed(['node', 'nodeName'], DELETE),
      'node.nodeName: expected a string, got undefined',
    ],
    ['pods an object', changed(['pods'], {}), 'pods: expected an array, got object'],
    ['a pod null', changed(['pods', 2], null), 'pods[2]: expected an object, got null'],
    [
      'podRef missing',
      changed(['pods', 1, 'podRef'], DELETE),
      'pods[1].podRef: expected an object, got undefined',
    ],
    [
      'podRef.name missing',
      changed(['pods', 1, 'podRef', 'name'], DELETE),
      'pods[1].podRef.name: expected a string, got undefined',
    ],
    [
      'podRef.namespace empty',
      changed(['pods', 0, 'podRef', 'namespace'], ''),
      'pods[0].podRef.namespace: expected a non-empty string, got empty string',
    ],
    [
      'a counter as a string',
      changed(['pods', 3, 'containers', 1, 'cpu', 'usageCoreNanoSeconds'], '12'),
      'pods[3].containers[1].cpu.usageCoreNanoSeconds: expected a number, got string',
    ],
    [
      'a fractional counter',
      changed(['pods', 3, 'containers', 0, 'cpu', 'usageCoreNanoSeconds'], 1.5),
      'pods[3].containers[0].cpu.usageCoreNanoSeconds: expected a non-negative integer, got number 1.5',
    ],
    ['cpu a string', changed(['pods', 2, 'cpu'], 'busy'), 'pods[2].cpu: expected an object, got string'],
    [
      'a system container counter as a boolean',
      changed(['node', 'systemContainers', 0, 'memory', 'usageBytes'], true),
      'node.systemContainers[0].memory.usageBytes: expected a number, got boolean',
    ],
    [
      'a volume counter as a string',
      changed(['pods', 1, 'volume', 0, 'usedBytes'], '1'),
      'pods[1].volume[0].usedBytes: expected a number, got string',
    ],
    [
      'node.fs.usedBytes as an array',
      changed(['node', 'fs'], { usedBytes: [] }),
      'node.fs.usedBytes: expected a number, got array',
    ],
    [
      'containers an object',
      changed(['pods', 0, 'containers'], {}),
      'pods[0].containers: expected an array, got object',
    ],
    [
      'a container without a name',
      changed(['pods', 0, 'containers', 1, 'name'], DELETE),
      'pods[0].containers[1].name: expected a string, got undefined',
    ],
    [
      'an unparsable time',
      changed(['node', 'startTime'], 'yesterday'),
      'node.startTime: expected an RFC3339 time, got "yesterday"',
    ],
    [
      'a time as a number',
      changed(['pods', 0, 'containers', 0, 'cpu', 'time'], 1700000000),
      'pods[0].containers[0].cpu.time: expected an RFC3339 time string, got number 1700000000',
    ],
    [
      'a custom metric value as a string',
      changed(['pods', 2, 'containers', 1, 'userDefinedMetrics', 0, 'value'], '1'),
      'pods[2].containers[1].userDefinedMetrics[0].value: expected a number, got string',
    ],
  ];

  it('accepts the unmodified base payload', () => {
    expect(decodeSummary(base(), { name: 'n1' })).toHaveLength(2 + 4 * 3);
  });

  it.each(cases)('%s', (_name, payload, message) => {
    let thrown: unknown;
    try {
      decodeSummary(payload, { name: 'n1' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DecodeError);
    expect((thrown as DecodeError).message).toBe(message);
    expect((thrown as DecodeError).name).toBe('DecodeError');
  });
});
