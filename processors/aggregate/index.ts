import { defineProcessor } from '../../src/component/component.js';
import { aggregateOperator } from './aggregate.js';
import { aggregateConfig } from './config.js';

/**
 * The `aggregate` processor: pod sets from containers, node request/limit sums, and once per cycle the namespace
 * and cluster sets.
 *
 * @example
 * processors:
 *   - type: aggregate
 *     levels: [pod, node, namespace, cluster]
 */
export default defineProcessor({
  type: 'aggregate',
  description:
    'Sums containers into pods, pod requests into nodes, and pods into namespace and cluster sets per cycle.',
  config: aggregateConfig,
  create: (config, ctx) => aggregateOperator(config.levels, ctx),
});
