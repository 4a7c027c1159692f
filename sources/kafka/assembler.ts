import type { BatchFormatMessage, BatchPartMessage } from '../../src/model/batch-message.js';
import { shardOf } from '../../src/model/shard.js';
import type { CycleEnd, MetricSet, NodeBatch, NodeFailure, PipelineEvent } from '../../src/model/types.js';

/** Cycles per cluster kept open (parts or marks waiting) before the oldest is given up. */
const MAX_OPEN_CYCLES = 8;

/** What the assembler did with a message, for the source's counters. */
export type Outcome = 'part' | 'batch' | 'duplicate' | 'late' | 'mark' | 'abandoned';

interface OpenCycle {
  /** node → the parts received so far, by part number. */
  readonly parts: Map<string, (BatchPartMessage | undefined)[]>;
  /** Nodes whose batch is complete and was emitted. */
  readonly emitted: Set<string>;
  /** The marks received for this cycle: one per producer (several with sharded collectors). */
  readonly marks: CycleEnd[];
  /** When its first message came (ms, the assembler's clock): the deadline counts from here. */
  readonly openedAt: number;
}

interface ClusterState {
  readonly open: Map<number, OpenCycle>;
  /** The last cycle closed: its mark was emitted, anything later for it is late. */
  lastClosed: number;
  /** The nodes emitted in the last closed cycles, so that a batch delivered again after its cycle closed is not. */
  readonly closed: Map<number, Set<string>>;
  /**
   * Nodes per partition in the last sharded cycle whose marks covered every partition: the nodes an incomplete
   * cycle's missing shards would have covered, so that its nodes_expected still counts them.
   */
  lastComplete?: { readonly of: number; readonly counts: readonly number[] };
}

/** How the assembler closes sharded cycles whose shards do not all report. */
export interface AssemblerOptions {
  /** The time in ms, for deadlines. */
  readonly now: () => number;
  /** A cycle not complete this long after its first message is closed with what came (see expire). */
  readonly deadlineMs: number;
  /** Told of each cycle closed before every partition's mark came, with the partitions missing. */
  readonly incomplete?: (mark: CycleEnd, missing: readonly number[]) => void;
}

const NO_DEADLINE: AssemblerOptions = { now: () => 0, deadlineMs: Infinity };

/**
 * Turns the Kafka sink's `batch` format messages back into the events a kubelet source emits. A node batch is
 * emitted as soon as all of its parts are in (parts may interleave with other nodes' parts, and a part delivered
 * twice counts once). A cycle is closed, its CycleEnd emitted, once its mark has come and every node the mark
 * names as answered has been emitted; a cycle still waiting for batches when a later cycle of the same cluster
 * closes is closed then with what came (`nodesAnswered` says how many). Clusters (`cluster` of each message) are
 * kept apart: node names and cycle numbers are only unique within one.
 *
 * Sharded collectors each send their own mark, naming the nodes and the partitions they covered (`shard`): such
 * a cycle is complete once the marks cover every partition and every node they name as answered came. A cycle
 * that is not complete by `deadlineMs` after its first message (expire) or when a later cycle closes is closed
 * with what came: its mark says which partitions were covered, and its nodes_expected adds the nodes the missing
 * partitions had in the last complete cycle, so `aggregate` reports fewer nodes than expected, never zeros.
 *
 * @example
 * const assembler = new CycleAssembler((event) => subscriber.next(event));
 * assembler.accept(readBatchMessage(text));
 */
export class CycleAssembler {
  private readonly clusters = new Map<string | undefined, ClusterState>();

  constructor(
    private readonly emit: (event: PipelineEvent) => void,
    private readonly options: AssemblerOptions = NO_DEADLINE,
  ) {}

  /** Closes every cycle whose deadline has passed (and those before it), with what came. */
  expire(): void {
    const now = this.options.now();
    for (const [cluster, state] of this.clusters) {
      let due = -Infinity;
      for (const [number, cycle] of state.open) {
        if (cycle.marks.length > 0 && now - cycle.openedAt >= this.options.deadlineMs)
          due = Math.max(due, number);
      }
      if (due > -Infinity) this.closeUpTo(cluster, state, due);
    }
  }

  accept(message: BatchFormatMessage): Outcome {
    if (message.kind === 'cycle_end') return this.mark(message.mark);
    if (message.scope === 'cluster') {
      // A cluster batch (the first tier aggregated already) needs no assembly beyond its parts.
      return this.part(message, '');
    }
    return this.part(message, message.node as string);
  }

  private part(message: BatchPartMessage, node: string): Outcome {
    const state = this.stateOf(message.cluster);
    const late = message.cycle <= state.lastClosed;
    if (late && state.closed.get(message.cycle)?.has(node) === true) return 'duplicate';
    const cycle = this.openCycle(state, message.cycle);
    if (cycle.emitted.has(node)) return 'duplicate';
    let parts = cycle.parts.get(node);
    if (parts === undefined || parts.length !== message.parts) {
      parts = new Array<BatchPartMessage | undefined>(message.parts).fill(undefined);
      cycle.parts.set(node, parts);
    }
    if (parts[message.part] !== undefined) return 'duplicate';
    parts[message.part] = message;
    if (parts.some((p) => p === undefined)) return 'part';
    cycle.parts.delete(node);
    cycle.emitted.add(node);
    this.emit(batchOf(message, parts as BatchPartMessage[]));
    if (late) {
      if (state.open.get(message.cycle) === cycle && cycle.marks.length === 0)
        state.open.delete(message.cycle);
      return 'late';
    }
    this.closeReady(message.cluster, state);
    return 'batch';
  }

  private mark(mark: CycleEnd): Outcome {
    const state = this.stateOf(mark.cluster);
    if (mark.cycle <= state.lastClosed) return 'late';
    this.openCycle(state, mark.cycle).marks.push(mark);
    this.closeReady(mark.cluster, state);
    return 'mark';
  }

  /** Closes, in cycle order, every cycle that is ready, and before each the earlier ones still waiting. */
  private closeReady(cluster: string | undefined, state: ClusterState): void {
    let ready = -Infinity;
    for (const [c, cycle] of state.open) if (c > ready && isReady(cycle)) ready = c;
    if (ready > -Infinity) this.closeUpTo(cluster, state, ready);
  }

  /** Closes, in cycle order, every open cycle up to `last`. */
  private closeUpTo(cluster: string | undefined, state: ClusterState, last: number): void {
    const cycles = [...state.open.keys()].sort((a, b) => a - b);
    for (const c of cycles) {
      if (c > last) break;
      const cycle = state.open.get(c) as OpenCycle;
      state.open.delete(c);
      state.lastClosed = Math.max(state.lastClosed, c);
      const before = state.closed.get(c);
      if (before === undefined) state.closed.set(c, cycle.emitted);
      else for (const node of cycle.emitted) before.add(node);
      if (state.closed.size > MAX_OPEN_CYCLES) state.closed.delete(Math.min(...state.closed.keys()));
      // A cycle that never got a mark (its batches came, its mark was lost) ends without one, like a lost tick.
      if (cycle.marks.length > 0) this.emit(this.closedMark(cycle, cluster, state));
    }
  }

  /** The cycle's mark, merged from its shards' marks; an incomplete one is reported first. */
  private closedMark(cycle: OpenCycle, cluster: string | undefined, state: ClusterState): CycleEnd {
    const merged = closedMark(cycle, cluster);
    const shard = merged.shard;
    if (shard === undefined) return merged;
    const covered = new Set(shard.partitions);
    const missing: number[] = [];
    for (let p = 0; p < shard.of; p++) if (!covered.has(p)) missing.push(p);
    if (missing.length === 0) {
      state.lastComplete = { of: shard.of, counts: nodesPerPartition(merged.nodes ?? [], shard.of) };
      return merged;
    }
    let expected = merged.nodesExpected;
    const last = state.lastComplete;
    if (last !== undefined && last.of === shard.of) for (const p of missing) expected += last.counts[p] ?? 0;
    const mark = { ...merged, nodesExpected: Math.max(expected, merged.nodesAnswered) };
    this.options.incomplete?.(mark, missing);
    return mark;
  }

  private stateOf(cluster: string | undefined): ClusterState {
    let state = this.clusters.get(cluster);
    if (state === undefined) {
      state = { open: new Map(), lastClosed: -Infinity, closed: new Map() };
      this.clusters.set(cluster, state);
    }
    return state;
  }

  private openCycle(state: ClusterState, number: number): OpenCycle {
    let cycle = state.open.get(number);
    if (cycle === undefined) {
      cycle = { parts: new Map(), emitted: new Set(), marks: [], openedAt: this.options.now() };
      state.open.set(number, cycle);
      if (state.open.size > MAX_OPEN_CYCLES) {
        const oldest = Math.min(...state.open.keys());
        state.open.delete(oldest);
      }
    }
    return cycle;
  }
}

/** Every node the marks name as answered has been emitted. */
function isReady(cycle: OpenCycle): boolean {
  if (cycle.marks.length === 0) return false;
  if (!coversEveryPartition(cycle.marks)) return false;
  for (const mark of cycle.marks) {
    // Without a node list (an older producer), the mark's count is all there is to go by.
    if (mark.nodes === undefined) {
      if (cycle.emitted.size < mark.nodesAnswered) return false;
      continue;
    }
    const failed = new Set(mark.failures.map((f) => f.node));
    for (const node of mark.nodes) if (!failed.has(node) && !cycle.emitted.has(node)) return false;
  }
  return true;
}

/** Unsharded marks: there is one. Sharded: their partitions together are all of them. */
function coversEveryPartition(marks: readonly CycleEnd[]): boolean {
  let of = 0;
  const covered = new Set<number>();
  for (const mark of marks) {
    if (mark.shard === undefined) return true;
    of = Math.max(of, mark.shard.of);
    for (const p of mark.shard.partitions) covered.add(p);
  }
  return covered.size >= of;
}

function nodesPerPartition(nodes: readonly string[], of: number): number[] {
  const counts = new Array<number>(of).fill(0);
  for (const node of nodes) (counts[shardOf(node, of)] as number)++;
  return counts;
}

/**
 * The cycle's marks as one: answered is what was emitted; failures and nodes joined. Unsharded marks' counts are
 * summed; sharded marks may overlap during a rebalance (two replicas covered a partition), so their nodes are
 * counted once and the partitions they covered are joined.
 */
function closedMark(cycle: OpenCycle, cluster: string | undefined): CycleEnd {
  const first = cycle.marks[0] as CycleEnd;
  let expected = 0;
  let durationMs = 0;
  let of = 0;
  const partitions = new Set<number>();
  const failures: NodeFailure[] = [];
  const nodes = new Set<string>();
  for (const mark of cycle.marks) {
    expected += mark.nodesExpected;
    durationMs = Math.max(durationMs, mark.durationMs);
    failures.push(...mark.failures);
    if (mark.nodes !== undefined) for (const node of mark.nodes) nodes.add(node);
    if (mark.shard !== undefined) {
      of = Math.max(of, mark.shard.of);
      for (const p of mark.shard.partitions) partitions.add(p);
    }
  }
  let answered = 0;
  for (const node of cycle.emitted) if (node !== '') answered++;
  const sharded = of > 0;
  return {
    kind: 'cycle_end',
    cycle: first.cycle,
    timestamp: first.timestamp,
    ...(cluster === undefined ? {} : { cluster }),
    nodesExpected: sharded ? nodes.size : expected,
    nodesAnswered: answered,
    // A node that failed for one replica and answered for another (a rebalance) did answer.
    failures: sharded ? shardFailures(failures, cycle.emitted) : failures,
    ...(nodes.size > 0 ? { nodes: [...nodes] } : {}),
    ...(sharded ? { shard: { partitions: [...partitions].sort((a, b) => a - b), of } } : {}),
    durationMs,
  };
}

/** Each failed node once, and none that another replica got an answer from. */
function shardFailures(failures: readonly NodeFailure[], emitted: ReadonlySet<string>): NodeFailure[] {
  const byNode = new Map<string, NodeFailure>();
  for (const failure of failures) if (!emitted.has(failure.node)) byNode.set(failure.node, failure);
  return [...byNode.values()];
}

function batchOf(last: BatchPartMessage, parts: readonly BatchPartMessage[]): PipelineEvent {
  const sets: MetricSet[] = [];
  for (const part of parts) for (const set of part.sets) sets.push(set);
  const cluster = last.cluster === undefined ? {} : { cluster: last.cluster };
  if (last.scope === 'cluster') {
    return { kind: 'batch', scope: 'cluster', cycle: last.cycle, timestamp: last.time, ...cluster, sets };
  }
  const batch: NodeBatch = {
    kind: 'batch',
    scope: 'node',
    node: last.node as string,
    cycle: last.cycle,
    timestamp: last.time,
    ...cluster,
    sets,
  };
  return batch;
}
