import { z } from 'zod';

export const stdoutSinkConfig = z.strictObject({
  format: z
    .enum(['jsonl', 'table'])
    .default('jsonl')
    .describe('jsonl: one JSON object per metric set. table: a readable summary per cycle.'),
  max_rows: z
    .number()
    .int()
    .min(0)
    .default(40)
    .describe('table only: set rows shown per cycle (the busiest first); 0 shows only the summary lines.'),
});

export type StdoutSinkConfig = z.output<typeof stdoutSinkConfig>;
