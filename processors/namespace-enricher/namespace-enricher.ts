import type { OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import { mapBatches, reportBatchErrors, statefulOperator } from '../../src/component/operators.js';
import type { NamespaceMeta } from '../../src/component/metadata.js';
import { copyRecord } from '../../src/model/copy.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import { owned } from '../../src/model/owned.js';
import type { MetricBatch, PipelineEvent } from '../../src/model/types.js';
import { LabelCopier } from '../../src/component/label-copier.js';

/** What a namespace adds to a set: its uid, and the allow-listed labels as [name, value] pairs. */
interface NamespaceLabels {
  readonly id: string;
  readonly stored: readonly (readonly [string, string])[];
}

/**
 * The set's labels plus the namespace's, in one copy of the set's own (see copyRecord for why not a spread).
 * namespace_id always comes from the API server; stored labels never override the set's own.
 */
function withNamespace(own: Labels, ns: NamespaceLabels): Labels {
  const labels = copyRecord(own);
  for (const [name, value] of ns.stored) if (labels[name] === undefined) labels[name] = value;
  labels[LABEL.namespaceId] = ns.id;
  return labels;
}

/**
 * Adds `namespace_id` and the allow-listed namespace labels to pod, pod-container and namespace sets, from
 * `ctx.metadata` (Heapster's namespace_based_enricher, plus stored labels).
 *
 * @example
 * events$.pipe(namespaceEnricherOperator({ storeLabels: ['team'] }, ctx))
 */
export function namespaceEnricherOperator(
  options: { readonly storeLabels: readonly string[] },
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const onError = reportBatchErrors(ctx);
  return statefulOperator(
    () => ({
      copier: new LabelCopier({
        separator: ',',
        storeLabels: options.storeLabels,
        ignoreLabels: [],
        joined: false,
      }),
      added: new WeakMap<NamespaceMeta, NamespaceLabels>(),
    }),
    ({ copier, added }) => {
      function labelsOf(ns: NamespaceMeta): NamespaceLabels {
        let labels = added.get(ns);
        if (labels === undefined) {
          labels = { id: ns.uid, stored: Object.entries(copier.labelsFor(ns.labels)) };
          added.set(ns, labels);
        }
        return labels;
      }

      function enrich(batch: MetricBatch): MetricBatch {
        // Batches hold one or a few namespaces: remember the last lookup rather than hashing per set.
        let lastName: string | undefined;
        let lastLabels: NamespaceLabels | undefined;
        for (const set of batch.sets) {
          const name = set.labels[LABEL.namespaceName];
          if (name === undefined || (set.type !== 'pod' && set.type !== 'pod_container' && set.type !== 'ns'))
            continue;
          if (name !== lastName) {
            lastName = name;
            const ns = ctx.metadata.namespace(name);
            lastLabels = ns === undefined ? undefined : labelsOf(ns);
          }
          const ns = lastLabels;
          if (ns === undefined) continue;
          // In place: the set is this processor's until it passes the batch on (docs/plugins.md).
          owned(set).labels = withNamespace(set.labels, ns);
        }
        return batch;
      }

      return mapBatches(enrich, onError);
    },
  );
}
