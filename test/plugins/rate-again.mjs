// A plugin whose type collides with a built-in processor.
import { z } from 'zod';

export default {
  kind: 'processor',
  type: 'rate',
  description: 'Another rate.',
  config: z.strictObject({}),
  create: () => (source) => source,
};
