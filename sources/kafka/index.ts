import { defineSource } from '../../src/component/component.js';
import { kafkaSourceConfig } from './config.js';
import { kafkaSource } from './kafka-source.js';

/** `type: kafka` — a second tier: reads what first tiers' kafka sinks write (`format: batch`). */
export default defineSource({
  type: 'kafka',
  description:
    "Reads the batches and cycle marks that heapstream's kafka sink writes with format: batch, in a consumer " +
    'group, and emits them as a kubelet source would, so processors and sinks can run in a second tier.',
  config: kafkaSourceConfig,
  create: kafkaSource,
});
