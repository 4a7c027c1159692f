/**
 * The JSON of `/ui/api/snapshot` and of each server-sent event: what the store answers (store.ts) and the page
 * reads (ui/). One definition for both sides; it imports nothing, so the page's type check and bundle take it
 * without Node's types.
 */

/** A number, or null where there is none yet (a first cycle has no rates). */
export type Value = number | null;

export interface TopPod {
  readonly namespace: string;
  readonly pod: string;
  readonly cpu: Value;
  readonly memory: Value;
  /** The pod's last values (oldest first) while it was among the busiest: the sparkline. */
  readonly cpuHistory: readonly Value[];
  readonly memoryHistory: readonly Value[];
}

export interface NodeRow {
  readonly name: string;
  /** Whether the node failed its last scrape. */
  readonly failing: boolean;
  /** Scrapes failed in a row (0 once it answers). */
  readonly failuresInRow: number;
  /** Ms from the cycle's tick until its batch left the processors: the scrape plus the queue before it. */
  readonly answerMs: Value;
  readonly lastError: { readonly reason: string; readonly message: string; readonly cycle: number } | null;
  readonly sets: number;
  readonly values: number;
  readonly cpu: Value;
  readonly memory: Value;
}

export interface SinkRow {
  readonly name: string;
  /** Batches waiting in its queue (memory or disk). */
  readonly backlog: number;
  readonly backlogBytes: number;
  /** Batches delivered per second over the last cycle. */
  readonly deliveredPerSecond: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly retries: number;
  readonly failed: number;
  /** The backlog at each of the last cycles, oldest first. */
  readonly backlogHistory: readonly number[];
}

/** Cluster and namespace usage over the chosen range, one entry per time in `t`. */
export interface SeriesView {
  readonly t: readonly number[];
  readonly cluster: { readonly cpu: Value[]; readonly memory: Value[] };
  readonly namespaces: readonly {
    readonly name: string;
    readonly cpu: Value[];
    readonly memory: Value[];
  }[];
}

export interface Snapshot {
  readonly cycle: number | null;
  readonly timestamp: number | null;
  readonly resolutionMs: number;
  readonly series: SeriesView;
  readonly namespacesLeftOut: number;
  readonly topPods: { readonly cpu: readonly TopPod[]; readonly memory: readonly TopPod[] };
  readonly nodes: { readonly rows: readonly NodeRow[]; readonly total: number; readonly failing: number };
  readonly sinks: readonly SinkRow[];
  readonly scrapeErrors: readonly {
    readonly reason: string;
    readonly total: number;
    readonly lastCycle: number;
  }[];
}
