import type { SetType } from './catalogue.js';
import type { Labels } from './labels.js';
import type { ShardCoverage } from './shard.js';
import type { ReadonlySetValues } from './set-values.js';

/** A value that belongs to one object of a set (a filesystem, a disk, an accelerator), told apart by labels. */
export interface LabeledValue {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/**
 * The metrics of one object at one instant. The processor that receives a set owns it and may fill it in place
 * (see owned.ts); once passed on it is not changed by whoever passed it, and sinks only read it.
 * Times are milliseconds since the epoch, taken from the kubelet's own timestamps (fractions keep µs).
 */
export interface MetricSet {
  readonly type: SetType;
  readonly key: string;
  readonly labels: Labels;
  /** Metric name → value, laid out by the catalogue (set-values.ts). Integers stay integers (see valueType). */
  readonly values: ReadonlySetValues;
  readonly labeled: readonly LabeledValue[];
  /** When the kubelet sampled these values; 0 when the kubelet gave no time. */
  readonly scrapeTime: number;
  /** When the object (container, pod, node) started; 0 when unknown. A change means its counters reset. */
  readonly startTime: number;
}

export interface NodeBatch {
  readonly kind: 'batch';
  readonly scope: 'node';
  /** The node these sets were scraped from. */
  readonly node: string;
  readonly cycle: number;
  /** The cycle's tick time (ms since epoch): the batch time sinks stamp on the data. */
  readonly timestamp: number;
  /**
   * The pipeline's `cluster_name`, when one is set: node names and cycle numbers are only unique within one
   * cluster, so a second tier that serves several tells their batches and cycles apart by it.
   */
  readonly cluster?: string;
  readonly sets: readonly MetricSet[];
}

export interface ClusterBatch {
  readonly kind: 'batch';
  readonly scope: 'cluster';
  readonly cycle: number;
  readonly timestamp: number;
  /** The cluster the sets sum up (see NodeBatch.cluster). */
  readonly cluster?: string;
  readonly sets: readonly MetricSet[];
}

export type MetricBatch = NodeBatch | ClusterBatch;

/** Why one node gave no batch in a cycle. */
export interface NodeFailure {
  readonly node: string;
  readonly reason: ScrapeFailureReason;
  readonly message: string;
}

export type ScrapeFailureReason =
  'timeout' | 'http_status' | 'connection' | 'tls' | 'decode' | 'too_large' | 'busy';

/** Emitted once per cycle after every node answered or timed out; aggregators emit cluster batches on it. */
export interface CycleEnd {
  readonly kind: 'cycle_end';
  readonly cycle: number;
  readonly timestamp: number;
  readonly nodesExpected: number;
  readonly nodesAnswered: number;
  readonly failures: readonly NodeFailure[];
  /** The cluster whose cycle ended (see NodeBatch.cluster). */
  readonly cluster?: string;
  /**
   * The nodes this process was to scrape in the cycle (answered or failed), when the source knows them: a
   * second tier that gathers the marks of several shards learns from them which shard covered which node.
   */
  readonly nodes?: readonly string[];
  /**
   * Set by a sharded collector (`sharding:`): the partitions whose nodes it was to scrape in this cycle, out of
   * how many. On the mark a second tier emits, the partitions all the shards' marks covered: fewer than `of` is
   * an incomplete cycle (a shard's mark never came), whose sums lack those nodes.
   */
  readonly shard?: ShardCoverage;
  /** Wall-clock ms from the tick to the last node's answer. */
  readonly durationMs: number;
  /** The node that took longest to answer, and how long (ms); absent when none answered. */
  readonly slowest?: { readonly node: string; readonly ms: number };
}

export type PipelineEvent = MetricBatch | CycleEnd;
