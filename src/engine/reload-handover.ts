import { isDeepStrictEqual } from 'node:util';
import type { PipelineConfig, SinkEntry } from '../config/index.js';
import type { Logger } from '../component/logger.js';
import type { Telemetry } from '../component/telemetry.js';
import type { PipelineEvent } from '../model/types.js';
import type { Pipeline, PipelineOptions } from './pipeline.js';
import type { SinkRunner } from './sink-runner.js';

/**
 * A reload's hand-over, in one place: the old pipeline's sinks and the state its components kept go to the new
 * one (PipelineHandOver, in the order the supervisor goes through a reload). The old pipeline's sinks are compared
 * with the new config's by name:
 *
 * - unchanged (same type, keys, runner keys and directories): the runner goes on in the new pipeline as it is, its
 *   queue, in-flight writes and connection included, so a sink that is down holds back neither the reload nor its
 *   data;
 * - changed: the old runner keeps what it is writing and drains it; what it has queued and not started is taken
 *   from it once the old pipeline has scraped its last cycle, and given to the new runner of the same name before
 *   anything else;
 * - removed: the old runner drains and closes with the old pipeline.
 *
 * What the old pipeline's components kept (KeptState: rate's last samples, the simulated cluster) goes to the new
 * one, which claims it by key; what it does not claim is released once it runs. The new pipeline starts with the
 * cycle after the old one's last, so no cycle is scraped twice or delivered out of order.
 */

/** Which of the old pipeline's sinks the new config keeps, changes, removes or adds, by name. */
export interface SinkDiff {
  readonly unchanged: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly added: readonly string[];
}

/**
 * Compares the sinks of two configs.
 *
 * @example
 * const { unchanged, changed } = diffSinks(running, reloaded);
 */
export function diffSinks(old: PipelineConfig, next: PipelineConfig): SinkDiff {
  const unchanged: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const entry of old.sinks) {
    const successor = next.sinks.find((e) => e.name === entry.name);
    if (successor === undefined) removed.push(entry.name);
    else if (sameSink(entry, old, successor, next)) unchanged.push(entry.name);
    else changed.push(entry.name);
  }
  const added = next.sinks.filter((e) => !old.sinks.some((o) => o.name === e.name)).map((e) => e.name);
  return { unchanged, changed, removed, added };
}

/** What a new pipeline takes over from the one it replaces. */
export interface SinkHandOver {
  /** Runners of the unchanged sinks, still running: used as they are instead of new ones. */
  readonly keptSinks?: ReadonlyMap<string, SinkRunner>;
  /** What the changed sinks' old runners still held: given to the new runners of the same names first. */
  readonly handedQueues?: ReadonlyMap<string, readonly PipelineEvent[]>;
}

/** What a new pipeline's options take from the one it replaces. */
export type Succession = Pick<PipelineOptions, 'previousState' | 'afterCycle'> & SinkHandOver;

/**
 * One reload, from the running pipeline to the next config's, step by step.
 *
 * @example
 * const handOver = new PipelineHandOver(old, next); // before old.stop()
 * old.stop(); await old.scraped;
 * const pipeline = createPipeline(next, { ...options, ...handOver.succession() });
 * handOver.completed();
 */
export class PipelineHandOver {
  private readonly keptSinks: ReadonlyMap<string, SinkRunner>;

  /**
   * Claims the old pipeline's unchanged sinks for the next one (they stay open when it ends) and tells its kept
   * state that a successor will claim from it (its resources stay running). Call before stopping it.
   */
  constructor(
    private readonly old: Pipeline,
    private readonly next: PipelineConfig,
  ) {
    this.keptSinks = old.handOverSinks(next);
    old.keptState.expectSuccessor();
  }

  /**
   * The next pipeline's inheritance, once the old one has scraped its last cycle (then nothing more reaches its
   * queues): its kept state, the cycle to start after, the unchanged sinks, and what the changed ones still held.
   */
  succession(): Succession {
    return { ...this.stateOnly(), keptSinks: this.keptSinks, handedQueues: this.old.takeQueues(this.next) };
  }

  /**
   * For the old config run again when the new pipeline could not be built: the kept state and the cycle only (its
   * sinks were closed or counted by `abandonHandOver`).
   */
  stateOnly(): Succession {
    const lastCycle = this.old.lastCycle;
    return {
      previousState: this.old.keptState,
      ...(lastCycle === undefined ? {} : { afterCycle: lastCycle }),
    };
  }

  /** A pipeline now runs in the old one's place: what it did not claim of the old kept state stops. */
  completed(): void {
    void this.old.keptState.release();
  }

  /** The run stopped before the next pipeline started: the kept sinks deliver and close, the old state stops. */
  async cancel(): Promise<void> {
    await Promise.all([
      ...[...this.keptSinks.values()].map((runner) => runner.close()),
      this.old.keptState.release(),
    ]);
  }
}

/**
 * One pipeline's sink runners and what a reload may take from them: the unchanged ones whole (`handOver`), the
 * changed ones' queues (`takeQueues`). Those handed over are left open when the pipeline ends (`closeRest`).
 */
export class PipelineSinks {
  private readonly handedOver = new Set<SinkRunner>();
  /** Once the pipeline has ended its runners are closing: none can be handed over any more. */
  private ended = false;

  constructor(
    private readonly config: PipelineConfig,
    readonly runners: readonly SinkRunner[],
  ) {}

  /** The runners of the sinks that `next` declares unchanged, now owned by the next pipeline. Call before stop. */
  handOver(next: PipelineConfig): ReadonlyMap<string, SinkRunner> {
    const kept = new Map<string, SinkRunner>();
    if (this.ended) return kept;
    for (const name of diffSinks(this.config, next).unchanged) {
      const runner = this.runners.find((r) => r.name === name);
      if (runner === undefined) continue;
      this.handedOver.add(runner);
      kept.set(name, runner);
    }
    return kept;
  }

  /**
   * Removes what the named sink has queued and not yet started writing; nothing for a runner handed over, which
   * keeps its queue, nor for one the pipeline no longer has.
   */
  takeQueued(sinkName: string): PipelineEvent[] {
    const runner = this.runners.find((r) => r.name === sinkName);
    return runner === undefined || this.handedOver.has(runner) ? [] : runner.takeQueued();
  }

  /** What the sinks of `next` that are this pipeline's changed ones still hold (call once it has scraped). */
  takeQueues(next: PipelineConfig): ReadonlyMap<string, readonly PipelineEvent[]> {
    const queues = new Map<string, readonly PipelineEvent[]>();
    for (const entry of next.sinks) {
      const queued = this.takeQueued(entry.name);
      if (queued.length > 0) queues.set(entry.name, queued);
    }
    return queues;
  }

  /** At the pipeline's end: drains and closes the runners not handed over. */
  closeRest(): Promise<void>[] {
    this.ended = true;
    return this.runners.filter((r) => !this.handedOver.has(r)).map((r) => r.close());
  }
}

/**
 * The new pipeline's runners, in config order: an unchanged sink's running one as it is, otherwise a new one from
 * `create`, fed first what its predecessor still held.
 *
 * @example
 * const runners = runnersAfterReload(config, handOver, (entry) => new SinkRunner(…), logger);
 */
export function runnersAfterReload(
  config: PipelineConfig,
  handOver: SinkHandOver,
  create: (entry: SinkEntry) => SinkRunner,
  logger: Logger,
): SinkRunner[] {
  return config.sinks.map((entry) => {
    const kept = handOver.keptSinks?.get(entry.name);
    if (kept !== undefined) {
      logger.info(
        { sink: entry.name, queued: kept.queuedBatches },
        `sink ${entry.name} is unchanged: it goes on with its queue and connection`,
      );
      return kept;
    }
    const runner = create(entry);
    const handed = handOver.handedQueues?.get(entry.name) ?? [];
    for (const event of handed) runner.accept(event);
    if (handed.length > 0) {
      logger.info(
        { sink: entry.name, events: handed.length },
        `sink ${entry.name} changed: the new one delivers what the old one still held`,
      );
    }
    return runner;
  });
}

/**
 * When the new pipeline cannot be built: the kept runners deliver what they hold and close (nothing else will run
 * them), and what the changed sinks handed over is counted and logged as dropped (`reason="reload_failed"`).
 */
export function abandonHandOver(handOver: SinkHandOver, telemetry: Telemetry, logger: Logger): void {
  void Promise.all([...(handOver.keptSinks?.values() ?? [])].map((runner) => runner.close()));
  for (const [sink, events] of handOver.handedQueues ?? []) {
    const batches = events.filter((e) => e.kind === 'batch');
    const sets = batches.reduce((n, b) => n + b.sets.length, 0);
    const labels = { sink, reason: 'reload_failed' };
    telemetry.counter('heapstream_sink_dropped_batches_total', labels).inc(batches.length);
    telemetry.counter('heapstream_sink_dropped_sets_total', labels).inc(sets);
    logger.error(
      { sink, batches: batches.length, sets },
      `sink ${sink}: the new pipeline could not be built; the batches its old sink held were dropped`,
    );
  }
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
