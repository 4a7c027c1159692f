import { z } from 'zod';
import { labelCopierKeys } from '../../src/component/label-copier.js';

/** The `node_enricher` processor's keys: how node labels are copied (the metrics it adds are fixed). */
export const nodeEnricherConfig = z.strictObject({
  ...labelCopierKeys,
});

export type NodeEnricherConfig = z.output<typeof nodeEnricherConfig>;
