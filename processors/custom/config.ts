import { z } from 'zod';

/** The `custom` processor's own keys; `config` is validated later against the plugin's schema. */
export const customConfig = z.strictObject({
  module: z.string().min(1).meta({
    description:
      'The plugin: a path to a JavaScript or TypeScript module (relative to the pipeline file) or an installed package name.',
  }),
  export: z
    .string()
    .min(1)
    .default('default')
    .meta({ description: 'The module export holding the processor definition.' }),
  on_error: z.enum(['pass', 'drop']).default('pass').meta({
    description: 'What happens to a batch on which the plugin throws: passed on unprocessed, or dropped.',
  }),
  config: z
    .record(z.string(), z.unknown())
    .default({})
    .meta({ description: 'The plugin’s own keys, validated by the plugin’s schema.' }),
});

export type CustomConfig = z.output<typeof customConfig>;
