import { defineProcessor } from '../../src/component/component.js';
import { rateConfig } from './config.js';
import { rateOperator } from './rate.js';

/**
 * The `rate` processor: `_rate` metrics of every cumulative counter, from the kubelet's sample times.
 *
 * @example
 * processors:
 *   - type: rate
 *     max_gap: 45s
 */
export default defineProcessor({
  type: 'rate',
  description:
    'Adds the _rate of every cumulative counter (cpu/usage_rate in millicores, others per second).',
  config: rateConfig,
  create: (config, ctx) => rateOperator({ maxGapMs: config.max_gap ?? 3 * ctx.resolutionMs }, ctx),
});
