// The JSON of /ui/api/snapshot (src/engine/live/store.ts, LiveSnapshot), as the page reads it.

export type Value = number | null;

export interface TopPod {
  readonly namespace: string;
  readonly pod: string;
  readonly cpu: Value;
  readonly memory: Value;
  readonly cpuHistory: readonly Value[];
  readonly memoryHistory: readonly Value[];
}

export interface NodeRow {
  readonly name: string;
  readonly failing: boolean;
  readonly failuresInRow: number;
  readonly answerMs: Value;
  readonly lastError: { readonly reason: string; readonly message: string; readonly cycle: number } | null;
  readonly sets: number;
  readonly values: number;
  readonly cpu: Value;
  readonly memory: Value;
}

export interface SinkRow {
  readonly name: string;
  readonly backlog: number;
  readonly backlogBytes: number;
  readonly deliveredPerSecond: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly retries: number;
  readonly failed: number;
  readonly backlogHistory: readonly number[];
}

export interface Snapshot {
  readonly cycle: number | null;
  readonly timestamp: number | null;
  readonly resolutionMs: number;
  readonly series: {
    readonly t: readonly number[];
    readonly cluster: { readonly cpu: Value[]; readonly memory: Value[] };
    readonly namespaces: readonly {
      readonly name: string;
      readonly cpu: Value[];
      readonly memory: Value[];
    }[];
  };
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
