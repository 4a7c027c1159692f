import type { Observable, OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { MetadataProvider } from './metadata.js';
import type { SimulatedClusterStarter } from './node-target.js';
import type { SetType } from '../model/catalogue.js';
import type { CycleEnd, MetricBatch, PipelineEvent } from '../model/types.js';
import type { Clock, Tick } from './clock.js';
import type { Logger } from './logger.js';
import type { Telemetry } from './telemetry.js';
import type { PieceWriter } from './pieces.js';

/** Releases a piece of kept state (a running resource) that no pipeline claimed after a reload. */
export type Dispose<S> = (state: S) => Promise<void> | void;

/** What every component gets from the engine: no component reaches for globals. */
export interface ComponentContext {
  /**
   * The instance's id, the same in its metric labels, log fields and error messages: a sink's key under `sinks:`
   * (`lake`), a processor's or the source's `name:`, or else its type (`rate`, `kubelet_summary`; `rate#2` for a
   * second unnamed `rate`). The engine binds it to `logger` as `sink`, `processor` or `source`; components use it
   * as the value of the label of that name.
   */
  readonly id: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly metadata: MetadataProvider;
  /** Aborted when the pipeline shuts down. */
  readonly signal: AbortSignal;
  /** The pipeline's resolution in ms. */
  readonly resolutionMs: number;
  /** Directory of the pipeline file, against which relative paths in the config resolve. */
  readonly baseDir: string;
  /**
   * The pipeline's `data_dir`, absolute: heapstream's own files (disk buffers, dead letters, the file sink's S3
   * staging). Absent outside a pipeline (tests, tools); components then fall back to `./heapstream-data`.
   */
  readonly dataDir?: string;
  /**
   * State to carry across a config reload: returns what the replaced pipeline kept under `key`, or `create()`.
   * Choose a key that names the state's meaning (type and the options it depends on), not the position. A running
   * resource kept this way gets a `dispose`, called once no pipeline claims it any more.
   */
  readonly keep: <S>(key: string, create: () => S, dispose?: Dispose<S>) => S;
  /**
   * A processor's `on_error`: what becomes of a batch it fails on, for processors that catch their own failures
   * (`reportBatchErrors` follows it). The engine applies it to failures that escape too. Absent: `pass`.
   */
  readonly onError?: 'pass' | 'drop';
}

export interface SourceContext extends ComponentContext {
  /** The resolution clock: scrape every known node once per tick. */
  readonly ticks: Observable<Tick>;
  /**
   * Each cycle mark this source emitted, once every sink of the pipeline is done with it and with everything
   * emitted before it: delivered, or given up on for good (dead-lettered, dropped by `when_full`, failed after its
   * retries); never for what a shutdown gave up. A source that reads from a log (Kafka) commits its position on it,
   * for at-least-once delivery. Absent where the caller gives none (tests).
   */
  readonly delivered?: Observable<CycleEnd>;
  /** Discovery that knows the cluster's objects (the API server, the simulator) hands them to the enrichers. */
  readonly provideMetadata: (provider: MetadataProvider) => void;
  /** Starts a simulated cluster for `discovery: { simulated }`, when the registry has the simulator. */
  readonly startSimulatedCluster?: SimulatedClusterStarter;
  /**
   * Threads a kubelet source may decode payloads on (the pipeline's `workers:`, resolved to a count); 0 or
   * absent decodes on the main thread.
   */
  readonly workers?: number;
}

/**
 * A sink delivers batches somewhere. The engine owns queues, retries, timeouts and counters, so a sink only
 * has to say whether a write was delivered (resolve), may succeed later (throw RetryableError) or never will
 * (throw PermanentError).
 */
export interface Sink {
  connect?(): Promise<void>;
  /** Resolves only once the batch is delivered. */
  write(batch: MetricBatch): Promise<void>;
  /** Called in order with the batches, once per cycle; e.g. for per-cycle summaries. */
  cycleEnd?(mark: CycleEnd): Promise<void>;
  /** Flushes and releases resources; must be idempotent. */
  close(): Promise<void>;
  /**
   * Present when the runner should deliver this sink's batches piece by piece (see PieceWriter): it then calls
   * `pieces` instead of `write`, keeps each batch's progress across retries and, with `merge`, lets batches share
   * requests. The sink then keeps no queue of its own.
   */
  readonly pieces?: PieceWriter<unknown>;
}

// Config schemas are zod objects so the engine can add the keys it owns (`type`, sink `buffer`…) and report
// unknown keys against the whole set.
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface SourceDefinition<S extends ObjectSchema = ObjectSchema> {
  readonly kind: 'source';
  readonly type: string;
  readonly config: S;
  readonly description: string;
  create(config: z.output<S>, ctx: SourceContext): Observable<PipelineEvent>;
}

export interface ProcessorDefinition<S extends ObjectSchema = ObjectSchema> {
  readonly kind: 'processor';
  readonly type: string;
  readonly config: S;
  readonly description: string;
  create(config: z.output<S>, ctx: ComponentContext): OperatorFunction<PipelineEvent, PipelineEvent>;
}

export interface SinkDefinition<S extends ObjectSchema = ObjectSchema> {
  readonly kind: 'sink';
  readonly type: string;
  readonly config: S;
  readonly description: string;
  /**
   * The sink runner's defaults that suit this sink better than the engine's: a Kafka sink merges the writes in
   * flight into large produce requests, so it wants many at once; a sink that reads only some set types says so
   * with `select`, and is then handed nothing else (no cluster batches to queue). A user's own key always wins.
   */
  readonly runnerDefaults?: {
    readonly max_in_flight?: number;
    readonly select?: { readonly types?: readonly SetType[] };
  };
  create(config: z.output<S>, ctx: ComponentContext): Sink;
}

export type ComponentDefinition = SourceDefinition | ProcessorDefinition | SinkDefinition;

/**
 * Declares a source. A source is a cold Observable: subscribing starts scraping, unsubscribing stops it.
 *
 * @example
 * export default defineSource({ type: 'my_source', description: '…', config: z.strictObject({}),
 *   create: (config, ctx) => ctx.ticks.pipe(map(…)) });
 */
export function defineSource<S extends ObjectSchema>(
  def: Omit<SourceDefinition<S>, 'kind'>,
): SourceDefinition<S> {
  return { kind: 'source', ...def };
}

/**
 * Declares a processor: an RxJS operator over pipeline events. State lives inside the subscription.
 *
 * @example
 * export default defineProcessor({ type: 'drop_kube_system', description: '…', config: z.strictObject({}),
 *   create: () => mapBatches((b) => ({ ...b, sets: b.sets.filter((s) => s.labels.namespace_name !== 'kube-system') })) });
 */
export function defineProcessor<S extends ObjectSchema>(
  def: Omit<ProcessorDefinition<S>, 'kind'>,
): ProcessorDefinition<S> {
  return { kind: 'processor', ...def };
}

/**
 * Declares a sink.
 *
 * @example
 * export default defineSink({ type: 'my_sink', description: '…', config: z.strictObject({ url: z.string() }),
 *   create: (config) => ({ write: async (batch) => { await post(config.url, batch); }, close: async () => {} }) });
 */
export function defineSink<S extends ObjectSchema>(def: Omit<SinkDefinition<S>, 'kind'>): SinkDefinition<S> {
  return { kind: 'sink', ...def };
}
