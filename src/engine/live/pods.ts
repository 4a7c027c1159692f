import type { MetricSet } from '../../model/types.js';
import { CPU, MEMORY, valueOf, type ReadValue } from './value.js';

export interface PodUsage {
  /** The set's key: what histories are kept by, with no string built per pod and cycle. */
  readonly key: string;
  readonly namespace: string;
  readonly pod: string;
  readonly cpu: number | null;
  readonly memory: number | null;
}

export interface TopPod extends Omit<PodUsage, 'key'> {
  /** The pod's last values (oldest first) while it was among the busiest: the sparkline. */
  readonly cpuHistory: readonly (number | null)[];
  readonly memoryHistory: readonly (number | null)[];
}

/** Pods ranked per metric each cycle whose histories are kept; the page shows fewer. */
export const CANDIDATES = 50;
/** Points of a sparkline; a pod out of the candidates this many cycles loses its history. */
export const SPARK_POINTS = 30;

interface History {
  readonly cpu: (number | null)[];
  readonly memory: (number | null)[];
  lastCandidate: number;
  /** The last cycle the pod had a set: a cycle without one adds a gap. */
  lastSeen: number;
}

/**
 * The busiest pods: the last cycle's usage of every pod (for search), and short histories of the few that rank
 * high. Bounded: one entry per pod of the last cycle, and at most 2 × CANDIDATES × SPARK_POINTS histories' worth
 * of points (a pod keeps its history SPARK_POINTS cycles after it last ranked).
 */
export class TopPods {
  private last: PodUsage[] = [];
  /** The last cycle's CANDIDATES busiest pods per metric, best first: what a request without a search reads. */
  private best: Record<'cpu' | 'memory', PodUsage[]> = { cpu: [], memory: [] };
  private readonly histories = new Map<string, History>();

  /** Takes a finished cycle's pod sets. */
  add(
    cycle: number,
    pods: readonly MetricSet[],
    nameOf: (set: MetricSet) => { namespace: string; pod: string },
    read: ReadValue = valueOf,
  ): void {
    const usage: PodUsage[] = new Array<PodUsage>(pods.length);
    for (let i = 0; i < pods.length; i++) {
      const set = pods[i] as MetricSet;
      const { namespace, pod } = nameOf(set);
      usage[i] = {
        key: set.key,
        namespace,
        pod,
        cpu: read(set, CPU) ?? null,
        memory: read(set, MEMORY) ?? null,
      };
    }
    this.best = { cpu: rank(usage, 'cpu', CANDIDATES), memory: rank(usage, 'memory', CANDIDATES) };
    for (const p of [...this.best.cpu, ...this.best.memory]) {
      const h = this.histories.get(p.key) ?? { cpu: [], memory: [], lastCandidate: cycle, lastSeen: 0 };
      h.lastCandidate = cycle;
      this.histories.set(p.key, h);
    }
    // One lookup per pod in a map of at most a few hundred: cheaper than a map of every pod.
    for (const p of usage) {
      const h = this.histories.get(p.key);
      if (h === undefined || h.lastSeen === cycle) continue;
      h.lastSeen = cycle;
      push(h.cpu, p.cpu);
      push(h.memory, p.memory);
    }
    for (const [key, h] of this.histories) {
      if (cycle - h.lastCandidate >= SPARK_POINTS) this.histories.delete(key);
      else if (h.lastSeen !== cycle) {
        h.lastSeen = cycle;
        push(h.cpu, null);
        push(h.memory, null);
      }
    }
    this.last = usage;
  }

  get size(): { pods: number; histories: number } {
    return { pods: this.last.length, histories: this.histories.size };
  }

  /**
   * The `limit` busiest pods by `metric` of the last cycle, among those `match` accepts (all without it), with
   * their histories.
   */
  top(metric: 'cpu' | 'memory', limit: number, match?: (p: PodUsage) => boolean): TopPod[] {
    const pods =
      match === undefined && limit <= CANDIDATES
        ? this.best[metric].slice(0, limit)
        : rank(match === undefined ? this.last : this.last.filter(match), metric, limit);
    return pods.map((p) => {
      const h = this.histories.get(p.key);
      return {
        namespace: p.namespace,
        pod: p.pod,
        cpu: p.cpu,
        memory: p.memory,
        cpuHistory: h?.cpu ?? [],
        memoryHistory: h?.memory ?? [],
      };
    });
  }
}

/**
 * The `limit` highest by `metric`, highest first; ties by namespace then pod, so the order is the same for everyone
 * who sorts these values. A selection, not a sort: one comparison for most of 150,000 pods when `limit` is small.
 */
export function rank(pods: readonly PodUsage[], metric: 'cpu' | 'memory', limit: number): PodUsage[] {
  const best: PodUsage[] = [];
  for (const p of pods) {
    if (p[metric] === null) continue;
    if (best.length === limit && !before(p, best[limit - 1] as PodUsage, metric)) continue;
    let i = best.length;
    while (i > 0 && before(p, best[i - 1] as PodUsage, metric)) i--;
    best.splice(i, 0, p);
    if (best.length > limit) best.pop();
  }
  return best;
}

function before(a: PodUsage, b: PodUsage, metric: 'cpu' | 'memory'): boolean {
  const av = a[metric] ?? 0;
  const bv = b[metric] ?? 0;
  if (av !== bv) return av > bv;
  return (compare(a.namespace, b.namespace) || compare(a.pod, b.pod)) < 0;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function push(values: (number | null)[], value: number | null): void {
  values.push(value);
  if (values.length > SPARK_POINTS) values.shift();
}
