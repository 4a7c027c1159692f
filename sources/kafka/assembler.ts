import type { BatchFormatMessage, BatchPartMessage } from '../../src/model/batch-message.js';
import type { CycleEnd, MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';

/** Cycles per cluster kept open (parts or marks waiting) before the oldest is given up. */
const MAX_OPEN_CYCLES = 8;

/** What the assembler did with a message, for the source's counters. */
export type Outcome = 'part' | 'batch' | 'duplicate' | 'late' | 'mark' | 'abandoned';

interface OpenCycle {
  /** node → the parts received so far, by part number. */
  readonly parts: Map<string, (BatchPartMessage | undefined)[]>;
  /** Nodes whose batch is complete and was emitted. */
  readonly emitted: Set<string>;
  /** The marks received for this cycle: one per producer (one for now; several shards later). */
  readonly marks: CycleEnd[];
}

interface ClusterState {
  readonly open: Map<number, OpenCycle>;
  /** The last cycle closed: its mark was emitted, anything later for it is late. */
  lastClosed: number;
  /** The nodes emitted in the last closed cycles, so that a batch delivered again after its cycle closed is not. */
  readonly closed: Map<number, Set<string>>;
}

/**
 * Turns the Kafka sink's `batch` format messages back into the events a kubelet source emits. A node batch is
 * emitted as soon as all of its parts are in (parts may interleave with other nodes' parts, and a part delivered
 * twice counts once). A cycle is closed, its CycleEnd emitted, once its mark has come and every node the mark
 * names as answered has been emitted; a cycle still waiting for batches when a later cycle of the same cluster
 * closes is closed then with what came (`nodesAnswered` says how many). Clusters (`cluster` of each message) are
 * kept apart: node names and cycle numbers are only unique within one.
 *
 * The marks of a cycle are kept as a list and merged when it closes, so that a cycle made by several shards
 * (each sending its own mark, naming the nodes it covered) fits the same state; for now one mark closes it.
 *
 * @example
 * const assembler = new CycleAssembler((event) => subscriber.next(event));
 * assembler.accept(readBatchMessage(text));
 */
export class CycleAssembler {
  private readonly clusters = new Map<string | undefined, ClusterState>();

  constructor(private readonly emit: (event: PipelineEvent) => void) {}

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
    const cycles = [...state.open.keys()].sort((a, b) => a - b);
    let ready = -Infinity;
    for (const c of cycles) if (isReady(state.open.get(c) as OpenCycle)) ready = c;
    for (const c of cycles) {
      if (c > ready) break;
      const cycle = state.open.get(c) as OpenCycle;
      state.open.delete(c);
      state.lastClosed = Math.max(state.lastClosed, c);
      const before = state.closed.get(c);
      if (before === undefined) state.closed.set(c, cycle.emitted);
      else for (const node of cycle.emitted) before.add(node);
      if (state.closed.size > MAX_OPEN_CYCLES) state.closed.delete(Math.min(...state.closed.keys()));
      // A cycle that never got a mark (its batches came, its mark was lost) ends without one, like a lost tick.
      if (cycle.marks.length > 0) this.emit(closedMark(cycle, cluster));
    }
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
      cycle = { parts: new Map(), emitted: new Set(), marks: [] };
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

/** The cycle's marks as one: counts summed, failures and nodes joined; answered is what was emitted. */
function closedMark(cycle: OpenCycle, cluster: string | undefined): CycleEnd {
  const first = cycle.marks[0] as CycleEnd;
  let expected = 0;
  let durationMs = 0;
  const failures = [];
  const nodes: string[] = [];
  for (const mark of cycle.marks) {
    expected += mark.nodesExpected;
    durationMs = Math.max(durationMs, mark.durationMs);
    failures.push(...mark.failures);
    if (mark.nodes !== undefined) nodes.push(...mark.nodes);
  }
  let answered = 0;
  for (const node of cycle.emitted) if (node !== '') answered++;
  return {
    kind: 'cycle_end',
    cycle: first.cycle,
    timestamp: first.timestamp,
    ...(cluster === undefined ? {} : { cluster }),
    nodesExpected: expected,
    nodesAnswered: answered,
    failures,
    ...(nodes.length > 0 ? { nodes } : {}),
    durationMs,
  };
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
