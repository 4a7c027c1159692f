import { workerCount } from '../kube/decode-pool/pool.js';
import { resolve } from 'node:path';
import { ReplaySubject, filter, take, takeUntil, tap, type Observable } from 'rxjs';
import type { PipelineConfig } from '../config/index.js';
import { NO_METADATA, type MetadataProvider } from '../component/metadata.js';
import type { PipelineEvent } from '../model/types.js';
import { resolutionClock, systemClock, type Clock } from '../component/clock.js';
import type { ComponentContext } from '../component/component.js';
import { KeptState } from './kept-state.js';
import { ConfigError } from '../component/errors.js';
import { createNamed, namedErrors } from './start-errors.js';
import type { Dispose } from '../component/component.js';
import type { Logger } from '../component/logger.js';
import type { Registry } from '../component/registry.js';
import { pipelineObserver } from './pipeline-telemetry.js';
import { noNodeAnsweredReporter } from './cycle-failures.js';
import { isolatedProcessor } from './processor-errors.js';
import { SinkRunner } from './sink-runner.js';
import { cycleGate } from './cycle-gate.js';
import { withClusterName } from './cluster-name.js';
import { deliveredMarks } from './delivery.js';
import { PipelineSinks, runnersAfterReload } from './reload-handover.js';
import { Telemetry } from '../component/telemetry.js';

export interface PipelineOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly telemetry?: Telemetry;
  /** Stop after this many cycles (then drain and close), e.g. for `heapstream run --cycles 2`. */
  readonly cycles?: number;
  /** Scrape once at start instead of waiting for the first wall-clock boundary. Default true. */
  readonly immediateFirstCycle?: boolean;
  /**
   * The last cycle the pipeline this one replaces ticked (its `lastCycle`): this one starts with the next, so a
   * reload never scrapes a cycle twice nor delivers one out of order.
   */
  readonly afterCycle?: number;
  /** Metadata for enrichers when the source's discovery provides none (tests, embedders). */
  readonly metadata?: MetadataProvider;
  /** Sees every event that leaves the processors (e.g. the CLI's progress line). */
  readonly onEvent?: (event: PipelineEvent) => void;
  /** The state kept by the pipeline this one replaces (a reload), for processors to carry on from. */
  readonly previousState?: KeptState;
  /**
   * Sink runners of the pipeline this one replaces whose sinks did not change (from its `handOverSinks`): used as
   * they are, queue and connection included, instead of new ones of the same name.
   */
  readonly keptSinks?: ReadonlyMap<string, SinkRunner>;
  /**
   * What the replaced pipeline's sinks of these names still held when they changed (from its `takeQueued`): given
   * to the new sinks of the same names before anything else.
   */
  readonly handedQueues?: ReadonlyMap<string, readonly PipelineEvent[]>;
}

/**
 * source → processors → one SinkRunner per sink, built from a validated config.
 *
 * @example
 * const pipeline = createPipeline(config, { registry, logger });
 * process.once('SIGTERM', () => pipeline.stop());
 * await pipeline.run();
 */
export interface Pipeline {
  readonly telemetry: Telemetry;
  /** What its processors keep across a reload; pass it as the next pipeline's `previousState`. */
  readonly keptState: KeptState;
  readonly sinkNames: readonly string[];
  /** The last cycle its clock ticked, scraped or skipped; undefined before the first tick. */
  readonly lastCycle: number | undefined;
  /**
   * For a reload to `next`: the runners of the sinks that `next` declares exactly as this pipeline does (same
   * name, type, keys and config directory). They are left open when this pipeline finishes, queue and all, for
   * the next pipeline's `keptSinks`; the others drain and close as usual. Call before stop().
   */
  handOverSinks(next: PipelineConfig): ReadonlyMap<string, SinkRunner>;
  /**
   * Runs until stopped or `cycles` are done; resolves once every sink has drained and closed (but those handed
   * over). Idempotent.
   */
  run(): Promise<void>;
  /**
   * Resolves once the source and the processors are done (after stop(), or on an error), before the sinks have
   * drained: from then on the pipeline scrapes nothing and its state is final. Only after run().
   */
  readonly scraped: Promise<void>;
  /**
   * For a reload to `next`, once this pipeline has scraped: removes what its sinks that `next` changed have queued
   * and not yet started writing (see SinkRunner.takeQueued), for `next`'s `handedQueues`. Nothing of a sink
   * handed over by `handOverSinks`, which keeps its queue.
   */
  takeQueues(next: PipelineConfig): ReadonlyMap<string, readonly PipelineEvent[]>;
  /** Stops scraping; in-flight scrapes finish, queues drain within each sink's shutdown_timeout. */
  stop(): void;
  /** Aborts in-flight work too (a second Ctrl-C). */
  abort(): void;
}

export function createPipeline(config: PipelineConfig, options: PipelineOptions): Pipeline {
  // The caller's registry plus the types of the file's `plugins:` (validated by the loader: no collisions).
  const registry = config.plugins.length === 0 ? options.registry : options.registry.with(...config.plugins);
  const clock = options.clock ?? systemClock();
  const telemetry = options.telemetry ?? new Telemetry();
  const abort = new AbortController();
  // Replayed, so a stop() that comes before run() still stops it.
  const stop$ = new ReplaySubject<void>(1);
  let metadata: MetadataProvider = options.metadata ?? NO_METADATA;
  // Components hold this delegate, so metadata that discovery provides later reaches every enricher.
  const metadataDelegate: MetadataProvider = {
    pod: (ns, name) => metadata.pod(ns, name),
    namespace: (name) => metadata.namespace(name),
    node: (name) => metadata.node(name),
  };
  const keptState = new KeptState(options.previousState);
  const keep = <S>(key: string, create: () => S, dispose?: Dispose<S>): S =>
    keptState.keep(key, create, dispose);
  // The id is bound to the logger under the same name as the metric label: `sink`, `processor` or `source`.
  const contextFor = (kind: 'source' | 'processor' | 'sink', id: string): ComponentContext => ({
    id,
    logger: options.logger.child({ [kind]: id }),
    clock,
    telemetry,
    metadata: metadataDelegate,
    signal: abort.signal,
    resolutionMs: config.resolutionMs,
    baseDir: config.baseDir,
    dataDir: resolve(config.data_dir),
    keep,
  });

  // A reload's hand-over (unchanged runners kept, changed ones' queues fed first) lives in reload-handover.ts.
  const runners = runnersAfterReload(
    config,
    options,
    (entry) => {
      const def = registry.get('sink', entry.type);
      if (def === undefined) throw new Error(`${entry.path}: unknown sink type ${entry.type}`);
      const ctx = contextFor('sink', entry.name);
      const sink = createNamed(entry.path, () => def.create(entry.config, ctx));
      return new SinkRunner(entry.name, sink, entry.options, ctx, {
        dataDir: resolve(config.data_dir),
      });
    },
    options.logger,
  );
  const sinks = new PipelineSinks(config, runners);
  let markScraped!: () => void;
  const scraped = new Promise<void>((resolve) => (markScraped = resolve));

  let lastCycle: number | undefined;
  let ticks = resolutionClock(
    config.resolutionMs,
    clock,
    options.immediateFirstCycle ?? true,
    options.afterCycle,
  ).pipe(
    takeUntil(stop$),
    tap((tick) => (lastCycle = tick.cycle)),
    // `when_full: block` of a full sink holds the next cycle back: each runner answers for its own policy.
    filter(
      cycleGate(runners, { telemetry, logger: options.logger.child({ source: config.source.id }), clock }),
    ),
  );
  if (options.cycles !== undefined) ticks = ticks.pipe(take(options.cycles));

  const sourceDef = registry.get('source', config.source.type);
  if (sourceDef === undefined) throw new Error(`source: unknown source type ${config.source.type}`);
  const simulator = registry.simulatedClusterStarter;
  const source$ = createNamed('source', () =>
    sourceDef.create(config.source.config, {
      ...contextFor('source', config.source.id),
      ticks,
      delivered: deliveredMarks(runners),
      provideMetadata: (provider) => {
        metadata = provider;
      },
      ...(simulator === undefined ? {} : { startSimulatedCluster: simulator }),
      workers: workerCount(config.workers),
    }),
  ).pipe(namedErrors('source'));
  const named = (stream: Observable<PipelineEvent>): Observable<PipelineEvent> =>
    config.cluster_name === undefined ? stream : stream.pipe(withClusterName(config.cluster_name));

  const processed$ = config.processors.reduce<Observable<PipelineEvent>>((stream, entry) => {
    const def = registry.get('processor', entry.type);
    if (def === undefined) throw new Error(`${entry.path}: unknown processor type ${entry.type}`);
    // Start-up errors name the entry's place in the file (`processors[2]: …`), metrics and logs its id.
    const ctx = { ...contextFor('processor', entry.id), onError: entry.options.on_error };
    return stream.pipe(createNamed(entry.path, () => isolatedProcessor(def, entry, ctx)));
  }, named(source$));
  // Again after the processors, for the sets they made without the label (see withClusterName).
  const events$ = named(processed$);

  const observe = pipelineObserver(telemetry, clock);
  const reportNoAnswer = noNodeAnsweredReporter(options.logger.child({ component: 'source' }), clock);
  let running: Promise<void> | undefined;

  return {
    telemetry,
    keptState,
    sinkNames: runners.map((r) => r.name),
    get lastCycle() {
      return lastCycle;
    },
    handOverSinks: (next) => sinks.handOver(next),
    // Memoized: callers may await the same run (a reload lets the old pipeline drain in the background).
    run: () =>
      (running ??= new Promise<void>((resolve, reject) => {
        let failure: unknown;
        const finish = () => {
          markScraped();
          // What the source kept running (the simulated cluster) stops with it, unless a reload's successor may
          // claim it: the supervisor releases it after starting that one.
          const released = keptState.hasSuccessor ? Promise.resolve() : keptState.release();
          const closed = sinks.closeRest();
          Promise.all([...closed, released]).then(
            () => (failure === undefined ? resolve() : reject(failure as Error)),
            reject,
          );
        };
        // Disk buffers open now, not when built: a pipeline that fails to start leaves no directory locked.
        for (const runner of runners) runner.start();
        events$.subscribe({
          next: (event) => {
            observe(event);
            reportNoAnswer(event);
            options.onEvent?.(event);
            for (const runner of runners) runner.accept(event);
          },
          error: (err: unknown) => {
            failure = err;
            // A config mistake found at start (a missing CA file) is its owner's to report, in one line: the
            // CLI prints it. Anything else is a fault worth its stack.
            if (!(err instanceof ConfigError))
              options.logger.error({ err }, 'the pipeline stopped on an error');
            finish();
          },
          complete: finish,
        });
      })),
    scraped,
    takeQueues: (next) => sinks.takeQueues(next),
    stop: () => stop$.next(),
    abort: () => {
      stop$.next();
      abort.abort();
    },
  };
}
