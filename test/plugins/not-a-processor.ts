import { z } from 'zod';
import { defineSink } from '../../src/index.js';

export default defineSink({
  type: 'nowhere',
  description: 'A sink, exported where a processor is expected.',
  config: z.strictObject({}),
  create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
});

export const version = '1.0';
