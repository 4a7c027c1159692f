import { z } from 'zod';
import { duration } from '../component/duration.js';

/** Sink names become metric labels and log fields, so they stay simple. */
export const SINK_NAME = /^[a-z0-9_-]+$/;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

/** How the top-level file schema is completed: by structural placeholders to validate, or by real unions to export. */
export interface ComponentSchemas<
  Source extends z.ZodType,
  Processor extends z.ZodType,
  Sink extends z.ZodType,
> {
  readonly source: Source;
  readonly processor: Processor;
  readonly sink: Sink;
}

/**
 * The top level of `pipeline.yaml`, in one place so that new top-level keys (`metadata`, `server`…) are added
 * here and nowhere else: they reach `PipelineConfig`, validation and the JSON Schema from this function.
 * The component entries are parameters because validation checks them one by one against the registry, while
 * the JSON Schema export needs them as unions of every registered type.
 *
 * @example
 * const schema = pipelineFileSchema({ source: z.unknown(), processor: z.unknown(), sink: z.unknown() });
 */
export function pipelineFileSchema<
  Source extends z.ZodType,
  Processor extends z.ZodType,
  Sink extends z.ZodType,
>(components: ComponentSchemas<Source, Processor, Sink>) {
  return z.strictObject({
    // Heapster wants at least 5s, metrics-server 10s; neither has a maximum. Past an hour, rates and readiness
    // (3 × resolution) stop meaning much, while anything longer than a timer's 2^31−1 ms would fire at once.
    resolution: duration({ min: 1000, max: 3_600_000 })
      .prefault('15s')
      .describe('How often every node is scraped, e.g. 15s (1s to 1h).'),
    // A Kubernetes label value: it is written as a label by every sink and into set keys (`cluster:<c>/…`), so
    // it has no `/` or `:`, and it fits where the label values of the other systems fit.
    cluster_name: z
      .string()
      .regex(
        /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
        'a cluster name is 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
      )
      .optional()
      .describe(
        'Name of the cluster this pipeline collects: every set gets a cluster_name label, and namespace and ' +
          'cluster sets a key of their own (cluster:<name>/…), so one second tier can serve several clusters.',
      ),
    workers: z
      .union([z.literal('auto'), z.number().int().min(0).max(64)])
      .prefault(0)
      .describe(
        'Threads that decode the kubelet sources’ payloads beside the main thread: 0 decodes on the main ' +
          'thread; auto is one per core but one; or a number (at most 64).',
      ),
    plugins: z
      .array(z.string().min(1))
      .prefault([])
      .describe(
        'Modules whose definitions (defineSource, defineProcessor, defineSink) become types usable here: paths ' +
          'relative to this file, or installed package names.',
      ),
    source: components.source.describe('Where metrics come from: `type` and that source’s keys.'),
    processors: z
      .array(components.processor)
      .prefault([])
      .describe('Steps applied in order to every batch: each a `type` and that processor’s keys.'),
    sinks: z
      .record(
        z.string().regex(SINK_NAME, { message: 'sink names may use only a-z, 0-9, "_" and "-"' }),
        components.sink,
      )
      .refine((sinks) => Object.keys(sinks).length > 0, { message: 'at least one sink is required' })
      .describe('Where metrics go, by name: each a `type`, that sink’s keys and the delivery keys.'),
    server: z
      .strictObject({
        address: z.string().default('127.0.0.1').describe('Address to listen on; loopback by default.'),
        port: z.number().int().min(0).max(65535).default(9102).describe('Port; 0 picks a free one.'),
        token: z
          .string()
          .min(16, { message: 'a bearer token shorter than 16 characters is guessable' })
          .optional()
          .describe(
            'Bearer token every request but /livez and /readyz must send (Authorization: Bearer …); usually ' +
              '${env:NAME}. For an address beyond loopback.',
          ),
        token_file: z
          .string()
          .min(1)
          .optional()
          .describe('File holding the token instead (a Kubernetes secret mount), relative to this file.'),
        ready: z
          .strictObject({
            min_node_share: z
              .number()
              .min(0)
              .max(1)
              .default(0.5)
              .describe('Share of nodes that must answer the last cycle for /readyz to pass.'),
            max_cycle_age: duration()
              .optional()
              .describe('A last cycle older than this fails /readyz; 3 × resolution if absent.'),
            sink_window: duration()
              .prefault('5m')
              .describe('Each sink with data waiting must have delivered within this window.'),
          })
          .prefault({}),
      })
      .optional()
      .describe('Serves the live view (/), /metrics (Prometheus), /livez and /readyz. Absent: no server.'),
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).default('info').describe('Least severe level logged.'),
      })
      .prefault({})
      .describe('Logging of heapstream itself.'),
    data_dir: z
      .string()
      .min(1)
      .default('./heapstream-data')
      .describe('Where heapstream keeps data of its own (dead letters), relative to the working directory.'),
  });
}

// Validation first checks only that each component entry is a mapping; the registry then checks its keys.
const entry = z.record(z.string(), z.unknown());

/** The top level with component entries checked only as mappings: the first validation pass. */
export const pipelineFileStructure = pipelineFileSchema({ source: entry, processor: entry, sink: entry });

export type PipelineFileStructure = z.output<typeof pipelineFileStructure>;

/** Top-level keys other than the ones the loader turns into components; they pass through to `PipelineConfig`. */
export type PipelineSettings = Omit<
  PipelineFileStructure,
  'resolution' | 'plugins' | 'source' | 'processors' | 'sinks'
>;
