import { defineProcessor } from '../../src/component/component.js';
import { filterConfig } from './config.js';
import { filterOperator } from './filter.js';

/**
 * The `filter` processor: include or exclude sets by type, namespace and label, and metrics by name.
 *
 * @example
 * processors:
 *   - type: filter
 *     exclude: { namespaces: [kube-system], metrics: ['filesystem/*'] }
 */
export default defineProcessor({
  type: 'filter',
  description:
    'Keeps or drops metric sets by type, namespace and label, and metrics by exact name or prefix.',
  config: filterConfig,
  create: (config, ctx) => filterOperator(config, ctx),
});
