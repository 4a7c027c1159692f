// A JavaScript plugin that does not import heapstream at all: a definition is plain data.
import { z } from 'zod';
import { filter } from 'rxjs';

export const dropEmpty = {
  kind: 'processor',
  type: 'drop_empty_batches',
  description: 'Drops batches without sets.',
  config: z.strictObject({}),
  create: () => filter((event) => event.kind !== 'batch' || event.sets.length > 0),
};
