import { podContainerKey, podKey } from '../../src/model/keys.js';
import { LABEL } from '../../src/model/labels.js';
import type { MetricSet, NodeBatch } from '../../src/model/types.js';
import { slotOf } from '../../src/model/set-values.js';

// One point's row of doubles: the last sample, the earlier sample the usage is measured from, and the usage.
const LAST_CPU = 0;
const LAST_TIME = 1;
const START = 2;
const PREV_CPU = 3;
const PREV_TIME = 4;
const MEMORY = 5;
const NANOCORES = 6;
const WINDOW_US = 7;
const ROW = 8;

/**
 * metrics-server's `freshContainerMinMetricsResolution` (pkg/storage/pod.go): a container started less than a
 * resolution ago, but at least this long ago, is measured from its start (cumulative CPU 0 then).
 */
const FRESH_CONTAINER_MIN_MS = 10_000;

// Value slots of the two metrics the resource metrics API serves.
const CPU = slotOf('cpu/usage');
const WORKING_SET = slotOf('memory/working_set');

/** The usage of a node or a container, as served: CPU over [timestamp − window, timestamp]. */
export interface Usage {
  /** The kubelet's sample time of the later point (ms since the epoch, with µs fractions). */
  readonly timestamp: number;
  readonly windowUs: number;
  readonly nanocores: number;
  /** Working set, bytes. */
  readonly memoryBytes: number;
}

/**
 * One node's latest points, replaced whole by each of its batches: the node's own row, then its pods, each a run of
 * container rows. Rows are doubles in one Float64Array and names sit in plain arrays, so 150,000 pods are a few
 * large objects per node rather than several small ones per pod.
 */
export class NodeEntry {
  constructor(
    readonly node: string,
    /** The cycle's tick time of the batch (the collector's clock): what staleness is measured against. */
    readonly tickTime: number,
    /** The node's row, or undefined when the batch had no complete node point. */
    readonly nodeRow: Float64Array | undefined,
    readonly podNamespaces: readonly string[],
    readonly podNames: readonly string[],
    /** Container row index where each pod's run ends (its start is the previous pod's end). */
    readonly podEnds: Uint32Array,
    readonly containerNames: readonly string[],
    readonly rows: Float64Array,
  ) {}

  get podCount(): number {
    return this.podNames.length;
  }

  podStart(pod: number): number {
    return pod === 0 ? 0 : (this.podEnds[pod - 1] as number);
  }

  podEnd(pod: number): number {
    return this.podEnds[pod] as number;
  }

  /** Whether every container of the pod has a usage: metrics-server lists a pod only then (pkg/storage/pod.go). */
  podServable(pod: number): boolean {
    const end = this.podEnd(pod);
    for (let c = this.podStart(pod); c < end; c++) {
      if (Number.isNaN(this.rows[c * ROW + NANOCORES])) return false;
    }
    return end > this.podStart(pod);
  }

  /**
   * The container whose window the pod reports: the one with the earliest timestamp, as metrics-server's
   * `earliestTimeInfo` (pkg/storage/pod.go).
   */
  podTimeContainer(pod: number): number {
    let best = this.podStart(pod);
    const end = this.podEnd(pod);
    for (let c = best + 1; c < end; c++) {
      if ((this.rows[c * ROW + LAST_TIME] as number) < (this.rows[best * ROW + LAST_TIME] as number))
        best = c;
    }
    return best;
  }

  containerUsage(container: number): Usage {
    return usageOf(this.rows, container * ROW);
  }

  nodeUsage(): Usage | undefined {
    const row = this.nodeRow;
    if (row === undefined || Number.isNaN(row[NANOCORES])) return undefined;
    return usageOf(row, 0);
  }
}

function usageOf(rows: Float64Array, at: number): Usage {
  return {
    timestamp: rows[at + LAST_TIME] as number,
    windowUs: rows[at + WINDOW_US] as number,
    nanocores: rows[at + NANOCORES] as number,
    memoryBytes: rows[at + MEMORY] as number,
  };
}

/**
 * Fills row `at` of `out` from a new sample and the point stored before (`last`, row `lastAt`), with
 * metrics-server's rules (pkg/storage/pod.go and node.go `Store`, pkg/storage/types.go `resourceUsage`):
 * - the earlier point is the stored last one when the new sample is later; when it is not (the kubelet served
 *   cached stats), the stored earlier point stays if it is older than the new sample;
 * - a container that started after the stored point's time has restarted: it has no earlier point (no usage this
 *   cycle), unless it is fresh (started between 10 s and a resolution ago), when its start is the earlier point
 *   with CPU 0;
 * - a cumulative CPU lower than the earlier point's (a counter reset without a new start time) gives no usage;
 * - usage = ΔCPU ns ÷ window, truncated to whole nanocores, the window from the kubelet's own sample times.
 */
function fillRow(
  out: Float64Array,
  at: number,
  cpu: number,
  time: number,
  start: number,
  memory: number,
  last: Float64Array | undefined,
  lastAt: number,
  freshBelowMs: number,
): void {
  out[at + LAST_CPU] = cpu;
  out[at + LAST_TIME] = time;
  out[at + START] = start;
  out[at + MEMORY] = memory;
  let prevCpu = NaN;
  let prevTime = NaN;
  const age = time - start;
  if (start > 0 && age > 0 && age < freshBelowMs && age >= FRESH_CONTAINER_MIN_MS) {
    prevCpu = 0;
    prevTime = start;
  } else if (last !== undefined) {
    const lastTime = last[lastAt + LAST_TIME] as number;
    if (start < lastTime) {
      if (time > lastTime) {
        prevCpu = last[lastAt + LAST_CPU] as number;
        prevTime = lastTime;
      } else if ((last[lastAt + PREV_TIME] as number) < time) {
        prevCpu = last[lastAt + PREV_CPU] as number;
        prevTime = last[lastAt + PREV_TIME] as number;
      }
    }
  }
  out[at + PREV_CPU] = prevCpu;
  out[at + PREV_TIME] = prevTime;
  let nanocores = NaN;
  let windowUs = NaN;
  if (!Number.isNaN(prevTime) && cpu >= prevCpu) {
    windowUs = Math.round((time - prevTime) * 1000);
    if (windowUs > 0) nanocores = Math.trunc(((cpu - prevCpu) * 1e6) / windowUs);
  }
  out[at + NANOCORES] = nanocores;
  out[at + WINDOW_US] = windowUs;
}

/**
 * A point metrics-server's decoder keeps: a sample time, and CPU and working set both present and non-zero
 * (pkg/scraper/client/resource/decode.go drops a node, or a whole pod, whose point has a zero).
 */
function complete(set: MetricSet): boolean {
  const cpu = set.values.getAt(CPU);
  const memory = set.values.getAt(WORKING_SET);
  return set.scrapeTime > 0 && cpu !== undefined && cpu > 0 && memory !== undefined && memory > 0;
}

/** Finds a container's row in the previous entry: at the same position first (kubelets keep their order). */
class PreviousRows {
  private byKey: Map<string, number> | undefined;
  constructor(private readonly entry: NodeEntry | undefined) {}

  find(namespace: string, pod: string, container: string, hintPod: number, hintContainer: number): number {
    const e = this.entry;
    if (e === undefined) return -1;
    if (
      hintPod < e.podCount &&
      e.podNames[hintPod] === pod &&
      e.podNamespaces[hintPod] === namespace &&
      hintContainer < e.podEnd(hintPod) &&
      hintContainer >= e.podStart(hintPod) &&
      e.containerNames[hintContainer] === container
    ) {
      return hintContainer;
    }
    this.byKey ??= indexContainers(e);
    return this.byKey.get(podContainerKey(namespace, pod, container)) ?? -1;
  }
}

function indexContainers(e: NodeEntry): Map<string, number> {
  const byKey = new Map<string, number>();
  for (let p = 0; p < e.podCount; p++) {
    const ns = e.podNamespaces[p] as string;
    const name = e.podNames[p] as string;
    for (let c = e.podStart(p); c < e.podEnd(p); c++) {
      byKey.set(podContainerKey(ns, name, e.containerNames[c] as string), c);
    }
  }
  return byKey;
}

/** The same text as `previous` when equal, so a steady cluster keeps one copy of each name across cycles. */
function reuse(text: string, previous: string | undefined): string {
  return previous === text ? previous : text;
}

/**
 * The latest node and pod usage, fed by node batches and read by the metrics API. Each node's state is replaced
 * whole by its next batch; nodes whose latest batch is older than two resolutions are neither served nor kept.
 *
 * @example
 * const store = new LatestPointsStore({ resolutionMs: 15_000, now: () => Date.now() });
 * store.write(batch); store.endCycle();
 * store.entries().map((e) => e.nodeUsage()?.nanocores);
 */
export class LatestPointsStore {
  private readonly byNode = new Map<string, NodeEntry>();
  private sawCycleEnd = false;
  private readonly resolutionMs: number;
  private readonly now: () => number;
  /** Bumped by every change, so that readers can cache what they derive (the sorted pod order). */
  version = 0;

  constructor(options: { readonly resolutionMs: number; readonly now: () => number }) {
    this.resolutionMs = options.resolutionMs;
    this.now = options.now;
  }

  /** Replaces the node's points with the batch's; sets other than node and pod_container are ignored. */
  write(batch: NodeBatch): void {
    const previous = this.byNode.get(batch.node);
    const prevRows = new PreviousRows(previous);
    let nodeSet: MetricSet | undefined;
    const pods = new Map<string, MetricSet[]>();
    for (const set of batch.sets) {
      if (set.type === 'node') {
        nodeSet = set;
      } else if (set.type === 'pod_container') {
        const ns = set.labels[LABEL.namespaceName];
        const pod = set.labels[LABEL.podName];
        if (ns === undefined || pod === undefined || set.labels[LABEL.containerName] === undefined) continue;
        const key = podKey(ns, pod);
        let containers = pods.get(key);
        if (containers === undefined) pods.set(key, (containers = []));
        containers.push(set);
      }
    }

    let nodeRow: Float64Array | undefined;
    if (nodeSet !== undefined && complete(nodeSet)) {
      nodeRow = new Float64Array(ROW);
      // Nodes have no fresh-start rule in metrics-server: a freshBelowMs of 0 turns it off.
      fillRow(
        nodeRow,
        0,
        nodeSet.values.getAt(CPU) as number,
        nodeSet.scrapeTime,
        nodeSet.startTime,
        nodeSet.values.getAt(WORKING_SET) as number,
        previous?.nodeRow,
        0,
        0,
      );
    }

    let containerCount = 0;
    const kept: MetricSet[][] = [];
    for (const containers of pods.values()) {
      if (!containers.every(complete)) continue;
      kept.push(containers);
      containerCount += containers.length;
    }
    const podNamespaces: string[] = new Array<string>(kept.length);
    const podNames: string[] = new Array<string>(kept.length);
    const podEnds = new Uint32Array(kept.length);
    const containerNames: string[] = new Array<string>(containerCount);
    const rows = new Float64Array(containerCount * ROW);
    let c = 0;
    for (let p = 0; p < kept.length; p++) {
      const containers = kept[p] as MetricSet[];
      const first = containers[0] as MetricSet;
      const ns = first.labels[LABEL.namespaceName] as string;
      const pod = first.labels[LABEL.podName] as string;
      const podAt = previous !== undefined && p < previous.podCount ? p : -1;
      podNamespaces[p] = reuse(ns, podAt < 0 ? undefined : previous?.podNamespaces[podAt]);
      podNames[p] = reuse(pod, podAt < 0 ? undefined : previous?.podNames[podAt]);
      for (const set of containers) {
        const name = set.labels[LABEL.containerName] as string;
        const before = prevRows.find(ns, pod, name, p, c);
        containerNames[c] = reuse(name, before < 0 ? undefined : previous?.containerNames[before]);
        fillRow(
          rows,
          c * ROW,
          set.values.getAt(CPU) as number,
          set.scrapeTime,
          set.startTime,
          set.values.getAt(WORKING_SET) as number,
          before < 0 ? undefined : previous?.rows,
          before * ROW,
          this.resolutionMs,
        );
        c++;
      }
      podEnds[p] = c;
    }
    this.byNode.set(
      batch.node,
      new NodeEntry(
        batch.node,
        batch.timestamp,
        nodeRow,
        podNamespaces,
        podNames,
        podEnds,
        containerNames,
        rows,
      ),
    );
    this.version++;
  }

  /** Ends a cycle: nodes that stopped answering (or were deleted) are dropped once stale. */
  endCycle(): void {
    this.sawCycleEnd = true;
    for (const [node, entry] of this.byNode) {
      if (!this.fresh(entry)) {
        this.byNode.delete(node);
        this.version++;
      }
    }
  }

  /** Whether a point of this entry may be served: its batch is at most two resolutions old. */
  fresh(entry: NodeEntry): boolean {
    return this.now() - entry.tickTime <= 2 * this.resolutionMs;
  }

  /** The fresh entries, in no particular order. */
  entries(): NodeEntry[] {
    const out: NodeEntry[] = [];
    for (const entry of this.byNode.values()) if (this.fresh(entry)) out.push(entry);
    return out;
  }

  /** The node's entry when fresh. */
  entry(node: string): NodeEntry | undefined {
    const entry = this.byNode.get(node);
    return entry !== undefined && this.fresh(entry) ? entry : undefined;
  }

  /** Ready once a cycle has ended and some node has a usage to serve (metrics-server: storage `Ready`). */
  ready(): boolean {
    if (!this.sawCycleEnd) return false;
    for (const entry of this.byNode.values()) {
      if (this.fresh(entry) && entry.nodeUsage() !== undefined) return true;
    }
    return false;
  }

  /** Nodes held (fresh or not yet swept). */
  get size(): number {
    return this.byNode.size;
  }
}
