/**
 * The real Heapster binary's outputs (`../shared/reference/heapster-golden/<name>/`) and what each run was fed,
 * rebuilt as the golden README describes: the kubelet payload of every cycle, and the node, pod and namespace
 * objects the fake API server served.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../src/kube/reflector.js';

const SHARED = new URL('../../../shared/', import.meta.url);
const GOLDEN = new URL('reference/heapster-golden/', SHARED);
const KUBELET = new URL('fixtures/kubelet/', SHARED);
const CADVISOR = new URL('fixtures/cadvisor/', SHARED);

/** Heapster captured three complete cycles of every fixture. */
export const CYCLES = 3;

/** One point of `points.jsonl`, Heapster's output for one cycle. */
export interface GoldenPoint {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly field: string;
  readonly value: number;
  readonly int: boolean;
}

/** Which kubelet API Heapster's source called. */
export type KubeletApi = 'summary' | 'legacy';

export interface GoldenFixture {
  readonly name: string;
  readonly api: KubeletApi;
  readonly nodeName: string;
  /** The parsed payload Heapster's source got in cycle 1, 2, 3. */
  readonly payloads: readonly unknown[];
  /** The cycle `points.jsonl` holds: the last, or for a two-scrape pair the first one with rates (2). */
  readonly comparedCycle: number;
  /** What the fake API server listed. */
  readonly nodes: readonly KubeObject[];
  readonly pods: readonly KubeObject[];
  readonly namespaces: readonly KubeObject[];
  readonly heapster: readonly GoldenPoint[];
  /** Raw bytes of the last `cycle-<n>.lp` kept, and its cycle number. */
  readonly lastLineProtocol: { readonly cycle: number; readonly text: string };
  /**
   * The end of the compared cycle's scrape window (ms), Heapster's batch timestamp: from the kept `.lp` file,
   * moved by 10 s per cycle in between (cycles fired every 10 s). Heapster scraped, and read its clock for
   * uptime, 5 s after it.
   */
  readonly comparedWindowEndMs: number;
}

/**
 * Fixtures served through Heapster's legacy `kubernetes` source (POST /stats/container/): the cAdvisor payload
 * and the node name the README gives, since neither can be derived from a kubelet fixture folder.
 */
const LEGACY: Readonly<Record<string, { readonly payload: string; readonly node: string }>> = {
  'legacy-seed-stats-container': { payload: 'seed-stats-container.json', node: 'seed-node' },
};

const FIRST_SCRAPE = 'stats-summary.json';
const SECOND_SCRAPE = 'stats-summary-second-scrape.json';

/** Every fixture directory of the golden tree, so that a new one is compared without touching the test. */
export function goldenFixtureNames(): string[] {
  return readdirSync(GOLDEN)
    .filter((name) => statSync(new URL(name, GOLDEN)).isDirectory())
    .sort();
}

function readJson(url: URL): unknown {
  return JSON.parse(readFileSync(url, 'utf8'));
}

function readGoldenPoints(name: string): GoldenPoint[] {
  return readFileSync(new URL(`${name}/points.jsonl`, GOLDEN), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GoldenPoint);
}

/** Milliseconds between two of Heapster's cycles (README, "Cycle timing"). */
export const CYCLE_MS = 10_000;

function lastLineProtocol(name: string): { cycle: number; text: string } {
  const cycles = readdirSync(new URL(`${name}/`, GOLDEN))
    .map((file) => /^cycle-(\d+)\.lp$/.exec(file)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const cycle = cycles.at(-1);
  if (cycle === undefined) throw new Error(`heapster-golden/${name}: no cycle-<n>.lp file`);
  return { cycle, text: readFileSync(new URL(`${name}/cycle-${cycle}.lp`, GOLDEN), 'utf8') };
}

interface SummaryPodRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

function summaryPodRefs(payload: unknown): SummaryPodRef[] {
  const pods = (payload as { pods?: { podRef?: SummaryPodRef }[] }).pods ?? [];
  return pods.flatMap((p) => (p.podRef === undefined ? [] : [p.podRef]));
}

/**
 * The pods as served: `spec.nodeName` set to the node; a pod without a namespace (otel-minikube's hand-made
 * list) gets the namespace of the summary podRef with the same uid (README adaptation 2). managedFields
 * (adaptation 1) are ignored by the metadata cache, so they need no removal here.
 */
function servedPods(items: readonly KubeObject[], nodeName: string, refs: readonly SummaryPodRef[]) {
  const namespaceByUid = new Map(refs.map((r) => [r.uid, r.namespace]));
  return items.map((pod): KubeObject => {
    const metadata = (pod.metadata ?? {}) as { uid?: string; namespace?: string };
    const namespace = metadata.namespace ?? namespaceByUid.get(metadata.uid ?? '');
    return {
      ...pod,
      metadata: { ...metadata, ...(namespace === undefined ? {} : { namespace }) },
      spec: { ...(pod.spec as object), nodeName },
    };
  });
}

/** The one node served: labels, capacity and allocatable from nodes.yaml when the fixture has one. */
function servedNode(nodeName: string, nodesFile: URL | undefined): KubeObject {
  const base: KubeObject = {
    metadata: { name: nodeName, uid: `node-uid-${nodeName}` },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  if (nodesFile === undefined || !existsSync(nodesFile)) return base;
  const items = (parseYaml(readFileSync(nodesFile, 'utf8')) as { items: KubeObject[] }).items;
  const item = items.find((n) => (n.metadata as { name?: string } | undefined)?.name === nodeName);
  if (item === undefined) throw new Error(`${nodesFile.pathname}: no node named ${nodeName}`);
  const meta = item.metadata as { labels?: Record<string, string> };
  const status = item.status as { capacity?: unknown; allocatable?: unknown };
  return {
    ...base,
    metadata: { ...(base.metadata as object), labels: meta.labels },
    status: { ...(base.status as object), capacity: status.capacity, allocatable: status.allocatable },
  };
}

/** One Namespace per namespace seen in the summary's podRefs and in the pods, uid `uid-<namespace>`. */
function servedNamespaces(refs: readonly SummaryPodRef[], pods: readonly KubeObject[]): KubeObject[] {
  const names = new Set(refs.map((r) => r.namespace));
  for (const pod of pods) {
    const ns = (pod.metadata as { namespace?: string } | undefined)?.namespace;
    if (ns !== undefined) names.add(ns);
  }
  return [...names].sort().map((name) => ({ metadata: { name, uid: `uid-${name}` } }));
}

/** The batch timestamp of a cycle-<n>.lp file (the last token of every line, in ns), in ms. */
function batchTimestampMs(text: string, file: string): number {
  const stamps = new Set(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.slice(l.lastIndexOf(' ') + 1)),
  );
  const [stamp] = stamps;
  if (stamps.size !== 1 || stamp === undefined) throw new Error(`${file}: expected one batch timestamp`);
  return Number(BigInt(stamp) / 1_000_000n);
}

/** Loads one golden fixture with the inputs Heapster was given; throws when the inputs cannot be found. */
export function loadGoldenFixture(name: string): GoldenFixture {
  const heapster = readGoldenPoints(name);
  const lp = lastLineProtocol(name);
  const lpEnd = batchTimestampMs(lp.text, `heapster-golden/${name}/cycle-${lp.cycle}.lp`);
  const windowEnd = (cycle: number) => lpEnd + (cycle - lp.cycle) * CYCLE_MS;
  const legacy = LEGACY[name];
  if (legacy !== undefined) {
    const payload = readJson(new URL(legacy.payload, CADVISOR));
    return {
      name,
      api: 'legacy',
      nodeName: legacy.node,
      payloads: Array.from({ length: CYCLES }, () => payload),
      comparedCycle: CYCLES,
      nodes: [servedNode(legacy.node, undefined)],
      pods: [],
      namespaces: [],
      heapster,
      lastLineProtocol: lp,
      comparedWindowEndMs: windowEnd(CYCLES),
    };
  }
  const folder = new URL(`${name}/`, KUBELET);
  if (!existsSync(new URL(FIRST_SCRAPE, folder))) {
    throw new Error(
      `heapster-golden/${name}: no fixtures/kubelet/${name}/${FIRST_SCRAPE} and no legacy input; say what it was fed`,
    );
  }
  const first = readJson(new URL(FIRST_SCRAPE, folder));
  const pair = existsSync(new URL(SECOND_SCRAPE, folder));
  // The first cycle with rates for a pair; the last captured cycle otherwise.
  const comparedCycle = pair ? 2 : CYCLES;
  const second = pair ? readJson(new URL(SECOND_SCRAPE, folder)) : first;
  const nodeName = (first as { node: { nodeName: string } }).node.nodeName;
  const podsFile = new URL('pods.json', folder);
  const rawPods = existsSync(podsFile) ? (readJson(podsFile) as { items: KubeObject[] }).items : [];
  const refs = [...summaryPodRefs(first), ...summaryPodRefs(second)];
  const pods = servedPods(rawPods, nodeName, refs);
  return {
    name,
    api: 'summary',
    nodeName,
    // A pair: the first request got the first payload, every later one the second.
    payloads: Array.from({ length: CYCLES }, (_, i) => (i === 0 ? first : second)),
    comparedCycle,
    nodes: [servedNode(nodeName, new URL('nodes.yaml', folder))],
    pods,
    namespaces: servedNamespaces(refs, pods),
    heapster,
    lastLineProtocol: lp,
    comparedWindowEndMs: windowEnd(comparedCycle),
  };
}
