import { defineProcessor } from '../../src/index.js';
import { topPodsConfig } from './config.js';
import { topPods } from './top-pods.js';

/**
 * Top-N pods per namespace: per cycle, keeps only the N busiest pods of each namespace by a metric (and their
 * containers), dropping the rest. List the module under `plugins:` and use it as `type: top_pods`.
 *
 * @example
 * plugins: [./examples/top-pods/index.ts]
 * processors:
 *   - { type: top_pods, top: 3, metric: memory/working_set }
 */
export default defineProcessor({
  type: 'top_pods',
  description: 'Per cycle, keeps the N busiest pods of each namespace by a metric.',
  config: topPodsConfig,
  create: (config) => topPods(config),
});
