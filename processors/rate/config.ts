import { z } from 'zod';
import { duration } from '../../src/component/duration.js';

/** The `rate` processor's keys. */
export const rateConfig = z.strictObject({
  max_gap: duration().optional().meta({
    description:
      'Longest time between two samples of a series for which a rate is still emitted; default 3 × resolution.',
  }),
});

export type RateConfig = z.output<typeof rateConfig>;
