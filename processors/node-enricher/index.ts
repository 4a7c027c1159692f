import { defineProcessor } from '../../src/component/component.js';
import { nodeEnricherConfig } from './config.js';
import { nodeEnricherOperator } from './node-enricher.js';

/**
 * The `node_enricher` processor: node labels and node capacity, allocatable, utilization and reservation.
 *
 * @example
 * processors:
 *   - type: node_enricher
 *     store_labels: [zone=topology.kubernetes.io/zone]
 */
export default defineProcessor({
  type: 'node_enricher',
  description:
    'Adds node labels and */node_capacity, */node_allocatable, */node_utilization, */node_reservation.',
  config: nodeEnricherConfig,
  create: (config, ctx) =>
    nodeEnricherOperator(
      {
        labelSeparator: config.label_separator,
        storeLabels: config.store_labels,
        ignoreLabels: config.ignore_labels,
      },
      ctx,
    ),
});
