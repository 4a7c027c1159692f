import { Observable, type OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import { reportBatchErrors } from '../../src/component/operators.js';
import { clusterKey, namespaceKey } from '../../src/model/keys.js';
import { LABEL } from '../../src/model/labels.js';
import type { ClusterBatch, CycleEnd, MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import type { AggregateLevel } from './config.js';
import {
  aggregateNode,
  emptyPartial,
  mergePartial,
  namespacePartials,
  partialValues,
  PodAggregator,
  type NamespacePartial,
} from './sums.js';

/** Cycles whose end mark has not come yet; beyond this the oldest is dropped (its mark was lost). */
const MAX_OPEN_CYCLES = 8;

/** node → that node's per-namespace partial sums, for one cycle. */
type CycleState = Map<string, Map<string, NamespacePartial>>;

/**
 * One cluster's open cycles and the last one ended. Node names and cycle numbers are only unique within a
 * cluster: a second tier that serves several (each batch and mark carries its `cluster`) keeps them apart.
 */
interface ClusterCycles {
  readonly open: Map<number, CycleState>;
  lastEnded: number;
}

/**
 * Heapster's aggregators as one operator. Per node batch, as it flows: pod sets from containers, and the node's
 * pod requests and limits into its node set. Per cycle: the namespace and cluster sets, emitted as one cluster
 * batch right before the cycle's end mark, from per-node partial sums kept for that cycle only.
 *
 * @example
 * events$.pipe(aggregateOperator(['pod', 'namespace', 'node', 'cluster'], ctx))
 */
export function aggregateOperator(
  levels: readonly AggregateLevel[],
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const pod = levels.includes('pod');
  const node = levels.includes('node');
  const namespace = levels.includes('namespace');
  const cluster = levels.includes('cluster');
  const perCycle = namespace || cluster;
  const onError = reportBatchErrors(ctx);
  ctx.telemetry.describe(
    'heapstream_aggregate_late_batches_total',
    'Node batches that came after their cycle had ended: passed on, but not in that cycle’s namespace/cluster sums.',
  );
  const late = ctx.telemetry.counter('heapstream_aggregate_late_batches_total', { processor: ctx.id });
  const abandoned = ctx.telemetry.counter('heapstream_aggregate_abandoned_cycles_total', {
    processor: ctx.id,
  });

  function clusterBatch(mark: CycleEnd, state: CycleState | undefined): ClusterBatch {
    const reporting = state?.size ?? 0;
    const expected = mark.nodesExpected;
    const byNamespace = new Map<string, NamespacePartial>();
    const total = emptyPartial();
    if (state !== undefined) {
      for (const partials of state.values()) {
        for (const [ns, partial] of partials) {
          let into = byNamespace.get(ns);
          if (into === undefined) {
            into = emptyPartial();
            byNamespace.set(ns, into);
          }
          mergePartial(into, partial);
          mergePartial(total, partial);
        }
      }
    }
    const sets: MetricSet[] = [];
    const name = mark.cluster;
    if (namespace) {
      for (const [ns, partial] of byNamespace) {
        const labels: Record<string, string> = { [LABEL.type]: 'ns', [LABEL.namespaceName]: ns };
        if (partial.namespaceId !== undefined) labels[LABEL.namespaceId] = partial.namespaceId;
        if (name !== undefined) labels[LABEL.clusterName] = name;
        sets.push({
          type: 'ns',
          key: namespaceKey(ns, name),
          labels,
          values: partialValues(partial, reporting, expected),
          labeled: [],
          scrapeTime: 0,
          startTime: 0,
        });
      }
    }
    if (cluster) {
      total.namespaceId = undefined;
      sets.push({
        type: 'cluster',
        key: clusterKey(name),
        labels:
          name === undefined
            ? { [LABEL.type]: 'cluster' }
            : { [LABEL.type]: 'cluster', [LABEL.clusterName]: name },
        values: partialValues(total, reporting, expected),
        labeled: [],
        scrapeTime: 0,
        startTime: 0,
      });
    }
    const batch: ClusterBatch = {
      kind: 'batch',
      scope: 'cluster',
      cycle: mark.cycle,
      timestamp: mark.timestamp,
      sets,
    };
    return name === undefined ? batch : { ...batch, cluster: name };
  }

  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      const clusters = new Map<string | undefined, ClusterCycles>();
      const cyclesOf = (cluster: string | undefined): ClusterCycles => {
        let cycles = clusters.get(cluster);
        if (cycles === undefined) {
          cycles = { open: new Map(), lastEnded: -Infinity };
          clusters.set(cluster, cycles);
        }
        return cycles;
      };
      const pods = new PodAggregator();

      /** Pod and node sums, into the batch's own sets (it is this processor's until passed on). */
      function nodeLevels(batch: NodeBatch): NodeBatch {
        let sets = batch.sets;
        if (pod) sets = pods.aggregatePods(sets);
        if (node) sets = aggregateNode(sets, batch.node);
        return sets === batch.sets ? batch : { ...batch, sets };
      }
      function record(batch: NodeBatch): void {
        const { open: cycles, lastEnded } = cyclesOf(batch.cluster);
        if (batch.cycle <= lastEnded) {
          late.inc();
          return;
        }
        let state = cycles.get(batch.cycle);
        if (state === undefined) {
          state = new Map();
          cycles.set(batch.cycle, state);
          if (cycles.size > MAX_OPEN_CYCLES) {
            const oldest = Math.min(...cycles.keys());
            cycles.delete(oldest);
            abandoned.inc();
          }
        }
        // A node reporting twice in one cycle replaces its contribution rather than counting twice.
        state.set(batch.node, namespacePartials(batch.sets));
      }

      function endCycle(mark: CycleEnd): void {
        const ended = cyclesOf(mark.cluster);
        const cycles = ended.open;
        const state = cycles.get(mark.cycle);
        for (const c of cycles.keys()) {
          if (c < mark.cycle) {
            cycles.delete(c);
            abandoned.inc();
          }
        }
        cycles.delete(mark.cycle);
        if (mark.cycle > ended.lastEnded) ended.lastEnded = mark.cycle;
        subscriber.next(clusterBatch(mark, state));
      }

      return source.subscribe({
        next(event) {
          if (event.kind === 'cycle_end') {
            if (perCycle) {
              try {
                endCycle(event);
              } catch (error) {
                ctx.logger.error(
                  { err: error, cycle: event.cycle },
                  `processor ${ctx.id}: no cluster batch for this cycle`,
                );
              }
            }
            subscriber.next(event);
            return;
          }
          if (event.scope !== 'node') {
            subscriber.next(event);
            return;
          }
          let out: NodeBatch = event;
          try {
            out = nodeLevels(event);
            if (perCycle) record(out);
          } catch (error) {
            if (onError(error, event) === 'drop') return;
          }
          subscriber.next(out);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
