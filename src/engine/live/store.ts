import type { Clock } from '../../component/clock.js';
import type { Telemetry } from '../../component/telemetry.js';
import { LABEL } from '../../model/labels.js';
import type { CycleEnd, MetricSet, PipelineEvent } from '../../model/types.js';
import { NodeTable } from './nodes.js';
import { TopPods } from './pods.js';
import { SinkHealth } from './sinks.js';
import { HISTORY_MS, RAW_WINDOW_MS, UsageSeries } from './series.js';
import type { Snapshot } from './wire.js';
import { CPU, MEMORY, SUMMED_MEMORY, valueOf, type ReadValue } from './value.js';
import type { Written } from './written.js';

/** What one cycle brought, kept until its cycle_end. */
interface Pending {
  cluster: MetricSet | undefined;
  readonly namespaces: MetricSet[];
  readonly pods: MetricSet[];
}

export interface LiveQuery {
  /** `5m` or `1h`. */
  readonly range: '5m' | '1h';
  /** Substring of a namespace, pod or node name; empty matches all. */
  readonly search: string;
}

/** What the page asks for (wire.ts: the one definition the page shares). */
export type LiveSnapshot = Snapshot;

/** Namespaces charted at most; the search narrows them. */
export const CHART_NAMESPACES = 8;
export const TOP_PODS = 10;

/**
 * A bounded, read-only tap on the pipeline for the live view: the cluster and namespace sets and node batches
 * that leave the processors, as every sink receives them (it reads them and keeps numbers and names only, never
 * a set), and the engine's own counters. Sizes: see UsageSeries, TopPods, NodeTable.
 *
 * @example
 * const store = new LiveStore(telemetry, clock, () => pipeline.sinkNames, () => 15_000);
 * pipelineOptions.onEvent = (event) => store.observe(event);
 */
export class LiveStore {
  private readonly series = new UsageSeries();
  private readonly pods = new TopPods();
  private readonly nodes = new NodeTable();
  private readonly sinks: SinkHealth;
  private readonly pending = new Map<number, Pending>();
  private readonly lastFailures = new Map<string, number>();
  private last: CycleEnd | undefined;
  private readonly listeners = new Set<(cycle: number) => void>();

  constructor(
    private readonly telemetry: Telemetry,
    private readonly clock: Clock,
    sinkNames: () => readonly string[],
    /** The cycle length in force (a reload may change it). */
    private readonly resolutionMs: () => number,
    /** What the sinks' `select`s let through (see writtenBySinks); everything if absent. */
    private readonly written: Written = () => true,
  ) {
    this.sinks = new SinkHealth(telemetry, sinkNames);
    this.read = (set, name) => (this.written(set, name) ? valueOf(set, name) : undefined);
  }

  private readonly read: ReadValue;

  observe(event: PipelineEvent): void {
    if (event.kind === 'cycle_end') {
      this.endCycle(event);
      return;
    }
    if (event.scope === 'node') this.nodes.answered(event, this.clock.now(), this.read);
    let pending: Pending | undefined;
    for (const set of event.sets) {
      if (set.type !== 'cluster' && set.type !== 'ns' && set.type !== 'pod') continue;
      // A namespace or pod no sink writes is not named on the page either.
      const memory = set.type === 'pod' ? MEMORY : SUMMED_MEMORY;
      if (!this.written(set, CPU) && !this.written(set, memory)) continue;
      pending ??= this.pendingOf(event.cycle);
      if (set.type === 'cluster') pending.cluster = set;
      else if (set.type === 'ns') pending.namespaces.push(set);
      else pending.pods.push(set);
    }
  }

  /** Called after each cycle has been taken in (the page's live update). Returns the unsubscribe. */
  onCycle(listener: (cycle: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the store holds, for its size bound. */
  get size(): { raw: number; buckets: number; pods: number; histories: number; nodes: number } {
    return { ...this.series.size, ...this.pods.size, nodes: this.nodes.size };
  }

  snapshot(query: LiveQuery): LiveSnapshot {
    const needle = query.search.trim().toLowerCase();
    // Namespace, pod and node names are lower case in Kubernetes (DNS-1123): only the needle is lowered, so a
    // search over 150,000 pods allocates no string per pod.
    const has = (text: string) => needle === '' || text.includes(needle);
    const newest = this.last?.timestamp ?? this.clock.now();
    const since = newest - (query.range === '5m' ? RAW_WINDOW_MS : HISTORY_MS);
    const pod = (p: { namespace: string; pod: string }) => has(p.namespace) || has(p.pod);
    const reasons = [...this.lastFailures.keys()].sort();
    return {
      cycle: this.last?.cycle ?? null,
      timestamp: this.last?.timestamp ?? null,
      resolutionMs: this.resolutionMs(),
      series: this.series.view(since, has, CHART_NAMESPACES),
      namespacesLeftOut: this.series.namespacesLeftOut,
      topPods: {
        cpu: this.pods.top('cpu', TOP_PODS, needle === '' ? undefined : pod),
        memory: this.pods.top('memory', TOP_PODS, needle === '' ? undefined : pod),
      },
      nodes: this.nodes.view(has),
      sinks: this.sinks.view(),
      scrapeErrors: reasons.map((reason) => ({
        reason,
        total: this.telemetry.total('heapstream_scrape_errors_total', { reason }),
        lastCycle: this.lastFailures.get(reason) ?? 0,
      })),
    };
  }

  private pendingOf(cycle: number): Pending {
    let pending = this.pending.get(cycle);
    if (pending === undefined) {
      pending = { cluster: undefined, namespaces: [], pods: [] };
      this.pending.set(cycle, pending);
    }
    return pending;
  }

  private endCycle(mark: CycleEnd): void {
    const pending = this.pending.get(mark.cycle);
    // A cycle that never ends (cut by a reload) leaves nothing behind.
    for (const cycle of this.pending.keys()) if (cycle <= mark.cycle) this.pending.delete(cycle);
    this.series.add(mark.timestamp, pending?.cluster, pending?.namespaces ?? [], namespaceOf, this.read);
    this.pods.add(mark.cycle, pending?.pods ?? [], podOf, this.read);
    this.nodes.cycleEnded(mark);
    this.sinks.sample(this.clock.now());
    for (const reason of this.lastFailures.keys()) this.lastFailures.set(reason, 0);
    for (const f of mark.failures)
      this.lastFailures.set(f.reason, (this.lastFailures.get(f.reason) ?? 0) + 1);
    this.last = mark;
    for (const listener of this.listeners) listener(mark.cycle);
  }
}

// Names come from the sets' own labels (what sinks write), or from their keys when a processor dropped those.
function namespaceOf(set: MetricSet): string {
  return set.labels[LABEL.namespaceName] ?? set.key.replace(/^namespace:/, '');
}

function podOf(set: MetricSet): { namespace: string; pod: string } {
  const namespace = set.labels[LABEL.namespaceName];
  const pod = set.labels[LABEL.podName];
  if (namespace !== undefined && pod !== undefined) return { namespace, pod };
  const match = /^namespace:([^/]*)\/pod:(.*)$/.exec(set.key);
  return { namespace: namespace ?? match?.[1] ?? '', pod: pod ?? match?.[2] ?? set.key };
}
