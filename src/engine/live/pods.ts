import type { MetricSet } from '../../model/types.js';
import { CPU, MEMORY, valueOf } from './value.js';

export interface PodUsage {
  readonly namespace: string;
  readonly pod: string;
  readonly cpu: number | null;
  readonly memory: number | null;
}

export interface TopPod extends PodUsage {
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
}

/**
 * The busiest pods: the last cycle's usage of every pod (for search), and short histories of the few that rank
 * high. Bounded: one entry per pod of the last cycle, and at most 2 × CANDIDATES × SPARK_POINTS histories' worth
 * of points (a pod keeps its history SPARK_POINTS cycles after it last ranked).
 */
export class TopPods {
  private last: PodUsage[] = [];
  private readonly histories = new Map<string, History>();

  /** Takes a finished cycle's pod sets. */
  add(
    cycle: number,
    pods: readonly MetricSet[],
    nameOf: (set: MetricSet) => { namespace: string; pod: string },
  ): void {
    const usage: PodUsage[] = pods.map((set) => ({
      ...nameOf(set),
      cpu: valueOf(set, CPU) ?? null,
      memory: valueOf(set, MEMORY) ?? null,
    }));
    const candidates = new Set<PodUsage>([
      ...rank(usage, 'cpu', CANDIDATES),
      ...rank(usage, 'memory', CANDIDATES),
    ]);
    for (const p of candidates) {
      const id = podId(p);
      const h = this.histories.get(id) ?? { cpu: [], memory: [], lastCandidate: cycle };
      h.lastCandidate = cycle;
      this.histories.set(id, h);
    }
    const byId = new Map(usage.map((p) => [podId(p), p]));
    for (const [id, h] of this.histories) {
      if (cycle - h.lastCandidate >= SPARK_POINTS) {
        this.histories.delete(id);
        continue;
      }
      const now = byId.get(id);
      push(h.cpu, now?.cpu ?? null);
      push(h.memory, now?.memory ?? null);
    }
    this.last = usage;
  }

  get size(): { pods: number; histories: number } {
    return { pods: this.last.length, histories: this.histories.size };
  }

  /** The `limit` busiest pods by `metric` of the last cycle among those `match` accepts, with their histories. */
  top(metric: 'cpu' | 'memory', limit: number, match: (p: PodUsage) => boolean): TopPod[] {
    return rank(this.last.filter(match), metric, limit).map((p) => {
      const h = this.histories.get(podId(p));
      return { ...p, cpuHistory: h?.cpu ?? [], memoryHistory: h?.memory ?? [] };
    });
  }
}

/** Highest first; ties by namespace then pod, so the order is the same for everyone who sorts these values. */
export function rank(pods: readonly PodUsage[], metric: 'cpu' | 'memory', limit: number): PodUsage[] {
  return pods
    .filter((p) => p[metric] !== null)
    .sort(
      (a, b) =>
        (b[metric] ?? 0) - (a[metric] ?? 0) || compare(a.namespace, b.namespace) || compare(a.pod, b.pod),
    )
    .slice(0, limit);
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const podId = (p: { namespace: string; pod: string }): string => `${p.namespace}/${p.pod}`;

function push(values: (number | null)[], value: number | null): void {
  values.push(value);
  if (values.length > SPARK_POINTS) values.shift();
}
