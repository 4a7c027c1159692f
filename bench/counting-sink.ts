import { z } from 'zod';
import { defineSink } from '../src/component/component.js';
import { valuesInBatch } from '../src/model/count.js';
import type { CycleEnd, MetricBatch } from '../src/model/types.js';

/** What the counting sink saw of one cycle: counts and times only, never the batches themselves. */
export interface CycleCount {
  readonly cycle: number;
  /** The cycle's tick (ms since epoch): the wall-clock boundary the resolution clock fired on. */
  readonly tick: number;
  nodeBatches: number;
  sets: number;
  values: number;
  podSets: number;
  containerSets: number;
  /** Container sets without `cpu/request`: the pod enricher found no metadata for them. */
  unenrichedContainers: number;
  /** ms from the tick to each node batch's delivery, in arrival order. */
  readonly nodeLatencies: number[];
  /** ms from the tick to the cluster batch's delivery; -1 until it arrives. */
  clusterLatency: number;
  /** From the cycle end mark: nodes asked, nodes that answered, failures by reason. */
  nodesExpected: number;
  nodesAnswered: number;
  readonly failures: Map<string, number>;
}

/** Called when a cycle's end mark is delivered, after every batch of that cycle. */
export type CycleListener = (count: CycleCount) => void;

/**
 * A sink for the bench that counts sets and values per cycle and records when each batch arrived, so that the
 * bench measures the pipeline and not a sink's cost of keeping data.
 *
 * @example
 * const { definition } = countingSink(() => Date.now(), (c) => console.log(c.values));
 * registry.register(definition); // then `sinks: { count: { type: bench_count } }`
 */
export function countingSink(now: () => number, onCycle: CycleListener, type = 'bench_count') {
  const cycles = new Map<number, CycleCount>();
  const countOf = (cycle: number, tick: number): CycleCount => {
    let count = cycles.get(cycle);
    if (count === undefined) {
      count = newCount(cycle, tick);
      cycles.set(cycle, count);
    }
    return count;
  };
  const definition = defineSink({
    type,
    description: 'Counts sets and values per cycle and times their arrival (bench only).',
    config: z.strictObject({}),
    create: () => ({
      write(batch: MetricBatch) {
        const count = countOf(batch.cycle, batch.timestamp);
        const latency = now() - batch.timestamp;
        if (batch.scope === 'node') {
          count.nodeBatches++;
          count.nodeLatencies.push(latency);
        } else {
          count.clusterLatency = latency;
        }
        tally(count, batch);
        return Promise.resolve();
      },
      cycleEnd(mark: CycleEnd) {
        const count = countOf(mark.cycle, mark.timestamp);
        count.nodesExpected = mark.nodesExpected;
        count.nodesAnswered = mark.nodesAnswered;
        for (const failure of mark.failures) {
          count.failures.set(failure.reason, (count.failures.get(failure.reason) ?? 0) + 1);
        }
        cycles.delete(mark.cycle);
        onCycle(count);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    }),
  });
  return { definition };
}

function newCount(cycle: number, tick: number): CycleCount {
  return {
    cycle,
    tick,
    nodeBatches: 0,
    sets: 0,
    values: 0,
    podSets: 0,
    containerSets: 0,
    unenrichedContainers: 0,
    nodeLatencies: [],
    clusterLatency: -1,
    nodesExpected: 0,
    nodesAnswered: 0,
    failures: new Map(),
  };
}

function tally(count: CycleCount, batch: MetricBatch): void {
  const sets = batch.sets;
  count.sets += sets.length;
  // The count the pipeline's telemetry and sink runners share: a sink of the bench costs what a real one would.
  count.values += valuesInBatch(batch);
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i]!;
    if (set.type === 'pod') count.podSets++;
    else if (set.type === 'pod_container') {
      count.containerSets++;
      if (set.values.get('cpu/request') === undefined) count.unenrichedContainers++;
    }
  }
}
