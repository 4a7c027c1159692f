import { defineProcessor } from '../../src/component/component.js';
import { namespaceEnricherConfig } from './config.js';
import { namespaceEnricherOperator } from './namespace-enricher.js';

/**
 * The `namespace_enricher` processor: `namespace_id` and chosen namespace labels.
 *
 * @example
 * processors:
 *   - type: namespace_enricher
 *     store_labels: [team]
 */
export default defineProcessor({
  type: 'namespace_enricher',
  description: 'Adds namespace_id and allow-listed namespace labels to pod, container and namespace sets.',
  config: namespaceEnricherConfig,
  create: (config, ctx) => namespaceEnricherOperator({ storeLabels: config.store_labels }, ctx),
});
