import type { OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import { mapBatches, reportBatchErrors, statefulOperator } from '../../src/component/operators.js';
import type { NodeMeta } from '../../src/component/metadata.js';
import { LABEL } from '../../src/model/labels.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../../src/model/types.js';
import { LabelCopier } from '../../src/component/label-copier.js';
import { copyRecordWith } from '../../src/model/copy.js';
import { owned } from '../../src/model/owned.js';

interface ResourceSpec {
  /** Kubernetes resource name in NodeMeta capacity/allocatable. */
  readonly resource: string;
  /** Metric name prefix. */
  readonly metric: string;
  /** The usage metric that utilization divides. */
  readonly usage: string;
  /** Heapster reported cpu and memory capacity even when the node status lacked them (as 0). */
  readonly alwaysReported: boolean;
}

const RESOURCES: readonly ResourceSpec[] = [
  { resource: 'cpu', metric: 'cpu', usage: 'cpu/usage_rate', alwaysReported: true },
  { resource: 'memory', metric: 'memory', usage: 'memory/usage', alwaysReported: true },
  {
    resource: 'ephemeral-storage',
    metric: 'ephemeral_storage',
    usage: 'ephemeral_storage/usage',
    alwaysReported: false,
  },
];

/** Requests of the batch's containers: reservation's fallback when no aggregate wrote the node's requests. */
function containerRequests(sets: readonly MetricSet[], name: string): number | undefined {
  let sum: number | undefined;
  for (const set of sets) {
    if (set.type !== 'pod_container') continue;
    const v = set.values.get(name);
    if (v !== undefined) sum = (sum ?? 0) + v;
  }
  return sum;
}

/**
 * Adds node labels and Heapster's node autoscaling metrics (`*_capacity`, `*_allocatable`, `*_utilization`,
 * `*_reservation` for cpu, memory and ephemeral storage) to node sets, from `ctx.metadata`.
 *
 * @example
 * events$.pipe(nodeEnricherOperator({ labelSeparator: ',', storeLabels: ['zone=topology.kubernetes.io/zone'], ignoreLabels: [] }, ctx))
 */
export function nodeEnricherOperator(
  options: {
    readonly labelSeparator: string;
    readonly storeLabels: readonly string[];
    readonly ignoreLabels: readonly string[];
  },
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const onError = reportBatchErrors(ctx);
  return statefulOperator(
    () =>
      new LabelCopier({
        separator: options.labelSeparator,
        storeLabels: options.storeLabels,
        ignoreLabels: options.ignoreLabels,
      }),
    (copier) => {
      /** Adds the node's metrics and labels to its set, in place: the set is this processor's (docs/plugins.md). */
      function enrichNode(set: MetricSet, node: NodeMeta, sets: readonly MetricSet[]): void {
        const target = owned(set);
        const values = target.values;
        for (const r of RESOURCES) {
          const capacity = node.capacity[r.resource];
          const allocatable = node.allocatable[r.resource];
          if (!r.alwaysReported && (capacity === undefined || allocatable === undefined)) continue;
          values.set(r.metric + '/node_capacity', capacity ?? 0);
          values.set(r.metric + '/node_allocatable', allocatable ?? 0);
          if (allocatable === undefined || allocatable === 0) continue;
          // An unknown usage (no rate yet) gives no utilization rather than a misleading 0.
          const usage = values.get(r.usage);
          if (usage !== undefined) values.set(r.metric + '/node_utilization', usage / allocatable);
          const requestName = r.metric + '/request';
          const requested = values.get(requestName) ?? containerRequests(sets, requestName);
          if (requested !== undefined) values.set(r.metric + '/node_reservation', requested / allocatable);
        }
        target.labels = copyRecordWith(set.labels, copier.labelsFor(node.labels));
      }

      function enrich(batch: MetricBatch): MetricBatch {
        for (const set of batch.sets) {
          if (set.type !== 'node') continue;
          const name = set.labels[LABEL.nodename] ?? (batch.scope === 'node' ? batch.node : undefined);
          const node = name === undefined ? undefined : ctx.metadata.node(name);
          if (node !== undefined) enrichNode(set, node, batch.sets);
        }
        return batch;
      }

      return mapBatches(enrich, onError);
    },
  );
}
