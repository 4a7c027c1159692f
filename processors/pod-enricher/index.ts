import { defineProcessor } from '../../src/component/component.js';
import { podEnricherConfig } from './config.js';
import { podEnricherOperator } from './pod-enricher.js';

/**
 * The `pod_enricher` processor: requests, limits, restart counts, image, pod uid, labels and workload from the
 * API server's pods.
 *
 * @example
 * processors:
 *   - type: pod_enricher
 *     store_labels: [app, team=owner-team]
 */
export default defineProcessor({
  type: 'pod_enricher',
  description:
    'Adds requests, limits, restart counts, image, pod labels and owning workload to pod and container sets.',
  config: podEnricherConfig,
  create: (config, ctx) =>
    podEnricherOperator(
      {
        labelSeparator: config.label_separator,
        storeLabels: config.store_labels,
        ignoreLabels: config.ignore_labels,
        stubSets: config.stub_sets,
        workloadLabels: config.workload_labels,
      },
      ctx,
    ),
});
