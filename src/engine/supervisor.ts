import type { PipelineConfig } from '../config/index.js';
import { ConfigError } from '../component/errors.js';
import type { Logger } from '../component/logger.js';
import { createPipeline, type Pipeline, type PipelineOptions } from './pipeline.js';
import { abandonHandOver, PipelineHandOver, type Succession } from './reload-handover.js';
import { Telemetry } from '../component/telemetry.js';

/**
 * Runs one pipeline at a time and swaps it on reload. A new config is loaded and validated before anything
 * stops: a broken file leaves the running pipeline untouched and its problems logged. A valid one stops the
 * old pipeline (no new cycles; the cycle in flight finishes) and starts the new one, handing it the state the old
 * one's processors kept (rate's last samples, so rates continue across the reload) and its unchanged sinks,
 * running, with their queues; the old one's sinks that changed or went away drain and close in the background.
 * Telemetry is shared across pipelines, so counters and /metrics continue.
 *
 * @example
 * const supervisor = new PipelineSupervisor(options);
 * supervisor.start(config);
 * process.on('SIGHUP', () => void supervisor.reload(() => loadPipelineConfig(path, registry)));
 * await supervisor.done;
 */
export class PipelineSupervisor {
  readonly telemetry: Telemetry;
  private current: Pipeline | undefined;
  /** The config `current` was built from: what a reload falls back to when its new pipeline cannot be built. */
  private currentConfig: PipelineConfig | undefined;
  /** Replaced pipelines whose changed or removed sinks are still delivering; `done` waits for them. */
  private readonly draining = new Set<Promise<void>>();
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;
  private resolveDone!: (failed: boolean) => void;
  private lastFailure: unknown;
  /** Resolves when the last pipeline has finished (true if it failed). */
  readonly done: Promise<boolean>;

  constructor(private readonly options: PipelineOptions & { readonly logger: Logger }) {
    this.telemetry = options.telemetry ?? new Telemetry();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.telemetry.describe('heapstream_config_reloads_total', 'Config reloads, by result.');
  }

  get pipeline(): Pipeline | undefined {
    return this.current;
  }

  /** The config the running pipeline was built from (the last one applied by a reload). */
  get config(): PipelineConfig | undefined {
    return this.currentConfig;
  }

  /** What the last pipeline failed with, once `done` has resolved true: a ConfigError is a mistake found at start. */
  get failure(): unknown {
    return this.lastFailure;
  }

  /**
   * Starts a pipeline; on a reload, `succession` is what it inherits from the one it replaces (its kept state,
   * the cycle to start after, its sinks: see reload-handover.ts).
   */
  start(config: PipelineConfig, succession: Succession = {}): void {
    let pipeline: Pipeline;
    try {
      pipeline = createPipeline(config, { ...this.options, telemetry: this.telemetry, ...succession });
    } catch (err) {
      // Nothing will run the kept sinks now: deliver what they hold and close them, not leave them open.
      abandonHandOver(succession, this.telemetry, this.options.logger);
      throw err;
    }
    this.current = pipeline;
    this.currentConfig = config;
    pipeline.run().then(
      () => this.finished(pipeline, false),
      (err: unknown) => this.finished(pipeline, true, err),
    );
  }

  /** Loads the config again; swaps pipelines only if it is valid. Reloads queue behind one another. */
  reload(load: () => Promise<PipelineConfig>): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      if (this.stopped) return;
      let config: PipelineConfig;
      try {
        config = await load();
      } catch (err) {
        this.telemetry.counter('heapstream_config_reloads_total', { result: 'invalid' }).inc();
        const problems = err instanceof ConfigError ? err.problems : [String(err)];
        this.options.logger.error(
          { problems },
          'reload refused: the new config is invalid; the running pipeline goes on',
        );
        return;
      }
      const old = this.current;
      const oldConfig = this.currentConfig;
      this.current = undefined;
      // Unchanged sinks go on as they are (a sink that is down holds neither the reload nor its queue back), and
      // what its source keeps running (the simulated cluster) waits for the new pipeline to claim it.
      const handOver = old === undefined ? undefined : new PipelineHandOver(old, config);
      if (old !== undefined) {
        old.stop();
        // Once it has scraped its last cycle the new pipeline can start: sinks that changed or went away drain
        // meanwhile (a broken one for up to its shutdown_timeout), without pausing the scraping.
        const drained = old.run().catch(() => undefined);
        this.draining.add(drained);
        void drained.then(() => this.draining.delete(drained));
        await old.scraped;
      }
      if (this.stopped) {
        await handOver?.cancel();
        // No pipeline is current any more to end the run: end it here.
        this.end(false);
        return;
      }
      try {
        this.start(config, handOver?.succession());
        // The new pipeline has claimed what it keeps: the rest of the old one's resources stop now.
        handOver?.completed();
      } catch (err) {
        // Valid, but a component could not start (a sink's password_file unreadable, say): run the previous
        // configuration again rather than nothing. If that fails too, the error ends the reload.
        this.telemetry.counter('heapstream_config_reloads_total', { result: 'failed' }).inc();
        this.options.logger.error(
          { err },
          'reload failed: the new pipeline could not be built; the previous configuration runs again',
        );
        try {
          if (oldConfig === undefined) throw err;
          this.start(oldConfig, handOver?.stateOnly());
        } finally {
          handOver?.completed();
        }
        return;
      }
      this.telemetry.counter('heapstream_config_reloads_total', { result: 'applied' }).inc();
      this.options.logger.info('reloaded: the new pipeline is running');
    });
    return this.reloading;
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }

  abort(): void {
    this.stopped = true;
    this.current?.abort();
  }

  private finished(pipeline: Pipeline, failed: boolean, err?: unknown): void {
    // A pipeline replaced by a reload is expected to finish; only the current one ends the run.
    if (pipeline !== this.current) return;
    this.lastFailure = err;
    this.end(failed);
  }

  /** Resolves `done` once the pipelines replaced by reloads have drained too. */
  private end(failed: boolean): void {
    void Promise.all(this.draining).then(() => this.resolveDone(failed));
  }
}
