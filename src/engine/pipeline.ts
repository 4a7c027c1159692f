import { isDeepStrictEqual } from 'node:util';
import { resolve } from 'node:path';
import { ReplaySubject, filter, take, takeUntil, tap, type Observable } from 'rxjs';
import type { PipelineConfig, SinkEntry } from '../config/index.js';
import { NO_METADATA, type MetadataProvider } from '../component/metadata.js';
import type { PipelineEvent } from '../model/types.js';
import { resolutionClock, systemClock, type Clock } from '../component/clock.js';
import type { ComponentContext } from '../component/component.js';
import { KeptState } from './kept-state.js';
import type { Dispose } from '../component/component.js';
import type { Logger } from '../component/logger.js';
import type { Registry } from '../component/registry.js';
import { pipelineObserver } from './pipeline-telemetry.js';
import { SinkRunner } from './sink-runner.js';
import { cycleGate } from './cycle-gate.js';
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
   * Removes what the named sink has queued and not yet started writing (see SinkRunner.takeQueued); nothing for a
   * sink handed over by `handOverSinks`, which keeps its queue.
   */
  takeQueued(sinkName: string): PipelineEvent[];
  /** Stops scraping; in-flight scrapes finish, queues drain within each sink's shutdown_timeout. */
  stop(): void;
  /** Aborts in-flight work too (a second Ctrl-C). */
  abort(): void;
}

export function createPipeline(config: PipelineConfig, options: PipelineOptions): Pipeline {
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
  const contextFor = (name: string): ComponentContext => ({
    name,
    logger: options.logger.child({ component: name }),
    clock,
    telemetry,
    metadata: metadataDelegate,
    signal: abort.signal,
    resolutionMs: config.resolutionMs,
    baseDir: config.baseDir,
    keep,
  });

  const runners = config.sinks.map((entry) => {
    const kept = options.keptSinks?.get(entry.name);
    if (kept !== undefined) {
      options.logger.info(
        { sink: entry.name, queued: kept.queuedBatches },
        `sink ${entry.name} is unchanged: it goes on with its queue and connection`,
      );
      return kept;
    }
    const def = options.registry.get('sink', entry.type);
    if (def === undefined) throw new Error(`${entry.path}: unknown sink type ${entry.type}`);
    const ctx = contextFor(entry.path);
    const runner = new SinkRunner(entry.name, def.create(entry.config, ctx), entry.options, ctx, {
      dataDir: resolve(config.data_dir),
    });
    const handed = options.handedQueues?.get(entry.name) ?? [];
    for (const event of handed) runner.accept(event);
    if (handed.length > 0) {
      options.logger.info(
        { sink: entry.name, events: handed.length },
        `sink ${entry.name} changed: the new one delivers what the old one still held`,
      );
    }
    return runner;
  });
  const handedOver = new Set<SinkRunner>();
  // Once the pipeline has ended its runners are closing: none can be handed over any more.
  let ended = false;
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
    filter(cycleGate(runners, { telemetry, logger: options.logger.child({ component: 'source' }), clock })),
  );
  if (options.cycles !== undefined) ticks = ticks.pipe(take(options.cycles));

  const sourceDef = options.registry.get('source', config.source.type);
  if (sourceDef === undefined) throw new Error(`source: unknown source type ${config.source.type}`);
  const simulator = options.registry.simulatedClusterStarter;
  const source$ = sourceDef.create(config.source.config, {
    ...contextFor('source'),
    ticks,
    provideMetadata: (provider) => {
      metadata = provider;
    },
    ...(simulator === undefined ? {} : { startSimulatedCluster: simulator }),
  });

  const events$ = config.processors.reduce<Observable<PipelineEvent>>((stream, entry) => {
    const def = options.registry.get('processor', entry.type);
    if (def === undefined) throw new Error(`${entry.path}: unknown processor type ${entry.type}`);
    return stream.pipe(def.create(entry.config, contextFor(`${entry.path} (${entry.type})`)));
  }, source$);

  const observe = pipelineObserver(telemetry, clock);
  let running: Promise<void> | undefined;

  return {
    telemetry,
    keptState,
    sinkNames: runners.map((r) => r.name),
    get lastCycle() {
      return lastCycle;
    },
    handOverSinks: (next) => {
      const kept = new Map<string, SinkRunner>();
      if (ended) return kept;
      config.sinks.forEach((entry, i) => {
        const successor = next.sinks.find((e) => e.name === entry.name);
        if (successor === undefined || !sameSink(entry, config, successor, next)) return;
        const runner = runners[i] as SinkRunner;
        handedOver.add(runner);
        kept.set(entry.name, runner);
      });
      return kept;
    },
    // Memoized: callers may await the same run (a reload lets the old pipeline drain in the background).
    run: () =>
      (running ??= new Promise<void>((resolve, reject) => {
        let failure: unknown;
        const finish = () => {
          ended = true;
          markScraped();
          // What the source kept running (the simulated cluster) stops with it, unless a reload's successor may
          // claim it: the supervisor releases it after starting that one.
          const released = keptState.hasSuccessor ? Promise.resolve() : keptState.release();
          const closed = runners.filter((r) => !handedOver.has(r)).map((r) => r.close());
          Promise.all([...closed, released]).then(
            () => (failure === undefined ? resolve() : reject(failure as Error)),
            reject,
          );
        };
        events$.subscribe({
          next: (event) => {
            observe(event);
            options.onEvent?.(event);
            for (const runner of runners) runner.accept(event);
          },
          error: (err: unknown) => {
            failure = err;
            options.logger.error({ err }, 'the pipeline stopped on an error');
            finish();
          },
          complete: finish,
        });
      })),
    scraped,
    takeQueued: (sinkName) => {
      const runner = runners.find((r) => r.name === sinkName);
      // A runner handed over goes on in the next pipeline with its queue: nothing to take from it.
      return runner === undefined || handedOver.has(runner) ? [] : runner.takeQueued();
    },
    stop: () => stop$.next(),
    abort: () => {
      stop$.next();
      abort.abort();
    },
  };
}

/**
 * Whether a reload may keep a sink as it runs: same type, same keys (its own and the runner's) and the same config
 * directory, which relative paths in its keys resolve against. Files a sink reads when it starts (`password_file`)
 * are not compared: a changed secret file takes a change in the sink's keys, or a restart.
 */
function sameSink(a: SinkEntry, aConfig: PipelineConfig, b: SinkEntry, bConfig: PipelineConfig): boolean {
  return (
    a.type === b.type &&
    aConfig.baseDir === bConfig.baseDir &&
    aConfig.data_dir === bConfig.data_dir &&
    isDeepStrictEqual(a.options, b.options) &&
    isDeepStrictEqual(a.config, b.config)
  );
}
