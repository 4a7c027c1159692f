import type { MetricSet } from '../../model/types.js';
import { CPU, SUMMED_MEMORY, valueOf, type ReadValue } from './value.js';
import type { SeriesView } from './wire.js';

/** CPU (millicores) and memory (bytes) of one object; null where the set had no such value. */
export type Usage = [cpu: number | null, memory: number | null];

/** The cluster's and each namespace's usage at one cycle (raw) or one minute (downsampled). */
interface Point {
  readonly t: number;
  readonly cluster: Usage;
  readonly namespaces: Map<string, Usage>;
}

/** Sums and counts of a minute's points, averaged when read. */
interface Bucket {
  readonly t: number;
  /** The newest point folded in: the bucket is drawn there, so times stay in order before the raw points. */
  last: number;
  readonly cluster: Sum;
  readonly namespaces: Map<string, Sum>;
}
interface Sum {
  cpu: number;
  cpuN: number;
  mem: number;
  memN: number;
}

/** Points younger than this are kept as they came, one per cycle: the 5-minute range shows them exactly. */
export const RAW_WINDOW_MS = 5 * 60_000;
/** Older points are averaged per minute, for an hour. */
export const BUCKET_MS = 60_000;
export const HISTORY_MS = 60 * 60_000;
/** Raw points at most: 5 minutes at the shortest resolution (1 s). */
export const MAX_RAW_POINTS = RAW_WINDOW_MS / 1000;
export const MAX_BUCKETS = (HISTORY_MS - RAW_WINDOW_MS) / BUCKET_MS + 1;
/** Namespaces kept per point; more are counted, not charted, so a cluster of many cannot grow the store. */
export const MAX_NAMESPACES = 200;

export type { SeriesView } from './wire.js';

/**
 * Cluster and namespace usage for the last hour: one point per cycle for the last 5 minutes, then one averaged
 * point per minute. Bounded: at most MAX_RAW_POINTS + MAX_BUCKETS points of at most MAX_NAMESPACES namespaces.
 */
export class UsageSeries {
  private readonly raw: Point[] = [];
  private readonly buckets: Bucket[] = [];
  /** Namespaces a cycle had beyond MAX_NAMESPACES (the last cycle's count). */
  namespacesLeftOut = 0;

  /** Adds a finished cycle's cluster and namespace sets. */
  add(
    t: number,
    cluster: MetricSet | undefined,
    namespaces: readonly MetricSet[],
    nameOf: (set: MetricSet) => string,
    read: ReadValue = valueOf,
  ): void {
    const point: Point = { t, cluster: usage(cluster, read), namespaces: new Map() };
    for (const set of namespaces) {
      if (point.namespaces.size >= MAX_NAMESPACES) break;
      point.namespaces.set(nameOf(set), usage(set, read));
    }
    this.namespacesLeftOut = Math.max(0, namespaces.length - MAX_NAMESPACES);
    this.raw.push(point);
    while (this.raw.length > 0 && (this.raw[0] as Point).t <= t - RAW_WINDOW_MS)
      this.fold(this.raw.shift() as Point);
    while (this.raw.length > MAX_RAW_POINTS) this.fold(this.raw.shift() as Point);
    while (this.buckets.length > 0 && (this.buckets[0] as Bucket).t < t - HISTORY_MS) this.buckets.shift();
    while (this.buckets.length > MAX_BUCKETS) this.buckets.shift();
  }

  /** Points held (raw and downsampled): what the size bound counts. */
  get size(): { raw: number; buckets: number } {
    return { raw: this.raw.length, buckets: this.buckets.length };
  }

  /**
   * The points since `since` (ms since epoch), columns ready for a chart: the cluster, then the namespaces that
   * match `match`, busiest first (by their latest CPU), at most `limit` of them.
   */
  view(since: number, match: (namespace: string) => boolean, limit: number): SeriesView {
    const points: Point[] = [];
    for (const b of this.buckets) if (b.last > since) points.push(average(b));
    for (const p of this.raw) if (p.t > since) points.push(p);
    const latest = new Map<string, number>();
    for (const p of points)
      for (const [name, u] of p.namespaces) if (match(name)) latest.set(name, u[0] ?? 0);
    const names = [...latest.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([name]) => name);
    return {
      t: points.map((p) => p.t),
      cluster: { cpu: points.map((p) => p.cluster[0]), memory: points.map((p) => p.cluster[1]) },
      namespaces: names.map((name) => ({
        name,
        cpu: points.map((p) => p.namespaces.get(name)?.[0] ?? null),
        memory: points.map((p) => p.namespaces.get(name)?.[1] ?? null),
      })),
    };
  }

  private fold(point: Point): void {
    const t = Math.floor(point.t / BUCKET_MS) * BUCKET_MS;
    let bucket = this.buckets.at(-1);
    if (bucket === undefined || bucket.t !== t) {
      bucket = { t, last: point.t, cluster: emptySum(), namespaces: new Map() };
      this.buckets.push(bucket);
    }
    bucket.last = point.t;
    addTo(bucket.cluster, point.cluster);
    for (const [name, u] of point.namespaces) {
      let sum = bucket.namespaces.get(name);
      if (sum === undefined) {
        if (bucket.namespaces.size >= MAX_NAMESPACES) continue;
        sum = emptySum();
        bucket.namespaces.set(name, sum);
      }
      addTo(sum, u);
    }
  }
}

function usage(set: MetricSet | undefined, read: ReadValue): Usage {
  if (set === undefined) return [null, null];
  return [read(set, CPU) ?? null, read(set, SUMMED_MEMORY) ?? null];
}

const emptySum = (): Sum => ({ cpu: 0, cpuN: 0, mem: 0, memN: 0 });

function addTo(sum: Sum, u: Usage): void {
  if (u[0] !== null) {
    sum.cpu += u[0];
    sum.cpuN++;
  }
  if (u[1] !== null) {
    sum.mem += u[1];
    sum.memN++;
  }
}

function average(b: Bucket): Point {
  const of = (s: Sum): Usage => [
    s.cpuN === 0 ? null : Math.round(s.cpu / s.cpuN),
    s.memN === 0 ? null : Math.round(s.mem / s.memN),
  ];
  const namespaces = new Map<string, Usage>();
  for (const [name, s] of b.namespaces) namespaces.set(name, of(s));
  return { t: b.last, cluster: of(b.cluster), namespaces };
}
