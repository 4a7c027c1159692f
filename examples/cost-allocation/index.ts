import { defineProcessor } from '../../src/index.js';
import { costAllocationConfig } from './config.js';
import { costAllocation } from './cost-allocation.js';

/**
 * Cost allocation: CPU and memory of pods, priced per core-hour and GiB-hour, summed per team label, emitted
 * once per cycle as a cluster batch with one set per team. List the module under `plugins:` and use it as
 * `type: cost_allocation`.
 *
 * @example
 * plugins: [./examples/cost-allocation/index.ts]
 * processors:
 *   - { type: cost_allocation, team_label: team, cpu_core_hour: 0.04, memory_gib_hour: 0.005 }
 */
export default defineProcessor({
  type: 'cost_allocation',
  description: 'Per cycle, a set per team with the cost of its pods’ CPU and memory.',
  config: costAllocationConfig,
  create: (config, ctx) => costAllocation(config, ctx.resolutionMs),
});
