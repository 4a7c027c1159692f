import { watch } from 'node:fs';
import { loadPipelineConfig, type PipelineConfig } from '../config/index.js';
import { createBuiltinRegistry } from '../builtins.js';
import { systemClock } from '../component/clock.js';
import { createLogger } from '../component/logger.js';
import type { Pipeline } from '../engine/pipeline.js';
import { PipelineSupervisor } from '../engine/supervisor.js';
import { ConfigError } from '../component/errors.js';
import { EXIT_DATA_LOST, dataLoss, describeLoss } from './data-loss.js';
import { startOps } from './ops.js';
import { LiveStore } from '../engine/live/store.js';
import { writtenBySinks, type Written } from '../engine/live/written.js';
import { EXIT_START_FAILED, startFailureLine } from './start-failure.js';
import { ProgressLine, readableLogStream } from './terminal.js';

export interface RunOptions {
  readonly config: string;
  readonly cycles?: number;
  readonly logLevel?: string;
  readonly quiet?: boolean;
  readonly watchConfig?: boolean;
}

function printProblems(file: string, err: ConfigError): void {
  process.stderr.write(`${err.problems.join('\n')}\n${err.problems.length} problem(s) in ${file}\n`);
}

/**
 * `heapstream run`: runs the pipeline until SIGINT/SIGTERM or `--cycles`. The first signal stops scraping and
 * drains the sinks; a second one aborts in-flight work. SIGHUP (or a change with --watch-config) reloads the
 * file: a broken one is refused and the running pipeline goes on. A reader that closes stdout (`| head`) stops
 * the run as a signal does, quietly. Exits 0; 1 for an invalid config (what `validate` reports) or a pipeline
 * that failed; 2 for a config mistake only found at start (a file that cannot be read), said on one stderr line;
 * 3 when a run of `--cycles N` lost data (a sink failed or dropped batches), also said on one stderr line.
 */
export async function runCommand(opts: RunOptions): Promise<number> {
  const registry = createBuiltinRegistry();
  const load = () => loadPipelineConfig(opts.config, registry);
  let config: PipelineConfig;
  try {
    config = await load();
  } catch (err) {
    if (err instanceof ConfigError) {
      printProblems(opts.config, err);
      return 1;
    }
    throw err;
  }

  const hasStdoutSink = config.sinks.some((s) => s.type === 'stdout');
  // The status line shares the terminal with nothing else: not with data on stdout, not in a log pipeline.
  const progress: ProgressLine | undefined =
    opts.quiet !== true && process.stderr.isTTY && !hasStdoutSink
      ? new ProgressLine(process.stderr, (): Pipeline | undefined => supervisor.pipeline)
      : undefined;
  // process.stderr, not an asynchronous file stream: Node writes it synchronously to files and pipes, so the
  // data-loss summary written at the end comes after every log line. Logs are rate-limited, never a hot path.
  const logger = createLogger({
    level: opts.logLevel ?? config.log.level,
    destination: process.stderr.isTTY
      ? readableLogStream(process.stderr, () => progress?.clear())
      : process.stderr,
  });
  const clock = systemClock();
  // The live view's store taps what leaves the processors, as the status line does; only with an ops server.
  let live: LiveStore | undefined;
  const supervisor: PipelineSupervisor = new PipelineSupervisor({
    registry,
    logger,
    clock,
    ...(opts.cycles === undefined ? {} : { cycles: opts.cycles }),
    onEvent: (event) => {
      progress?.observe(event);
      live?.observe(event);
    },
  });
  if (config.server !== undefined) {
    live = new LiveStore(
      supervisor.telemetry,
      clock,
      () => supervisor.pipeline?.sinkNames ?? [],
      () => (supervisor.config ?? config).resolutionMs,
      writtenByCurrentSinks(() => supervisor.config ?? config),
    );
  }
  // The ops server first: a port in use is refused before anything is scraped.
  let stopOps: () => Promise<void> = () => Promise.resolve();
  try {
    const ops = await startOps(config, () => supervisor.pipeline, supervisor.telemetry, clock, logger, live);
    stopOps = ops.stop;
    // Whatever the log level: the page is how a person sees that it works.
    if (ops.url !== undefined && opts.quiet !== true) process.stderr.write(`live view: ${ops.url}/\n`);
    supervisor.start(config);
  } catch (err) {
    await stopOps();
    const line = startFailureLine(opts.config, err);
    if (line === undefined) throw err;
    process.stderr.write(`${line}\n`);
    return EXIT_START_FAILED;
  }

  let signals = 0;
  /** Set when a signal or stdout's reader ended the run, not --cycles: they chose to end it, lost data or not. */
  let endedEarly = false;
  const onStopSignal = (signal: NodeJS.Signals) => {
    signals++;
    endedEarly = true;
    if (signals === 1) {
      logger.info({ signal }, 'stopping: no new cycles; draining sinks (signal again to abort)');
      supervisor.stop();
    } else {
      logger.warn({ signal }, 'aborting in-flight work');
      supervisor.abort();
    }
  };
  const reload = () => {
    logger.info({ config: opts.config }, 'reloading the config');
    void supervisor.reload(load);
  };
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  process.on('SIGHUP', reload);
  const watcher = opts.watchConfig === true ? watchFile(opts.config, reload) : undefined;
  // `heapstream run | head` closes stdout early: that is the reader's choice, not an error. Stop as on a first
  // signal (the stdout sink discards the rest; other sinks drain) rather than abort, whose cut scrapes would
  // each be logged as a failed connection.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' || endedEarly) return;
    endedEarly = true;
    logger.debug('stdout was closed by its reader: stopping');
    supervisor.stop();
  });
  logger.info(
    { config: opts.config, resolutionMs: config.resolutionMs, sinks: config.sinks.map((s) => s.name) },
    'heapstream started',
  );
  let lossLine: string | undefined;
  let startLine: string | undefined;
  try {
    const failed = await supervisor.done;
    logger.info('heapstream stopped');
    const losses = dataLoss(supervisor.telemetry);
    if (losses.length > 0) lossLine = describeLoss(losses);
    startLine = failed ? startFailureLine(opts.config, supervisor.failure) : undefined;
    if (startLine !== undefined) return EXIT_START_FAILED;
    if (failed) return 1;
    return losses.length > 0 && opts.cycles !== undefined && !endedEarly ? EXIT_DATA_LOST : 0;
  } catch (err) {
    logger.error({ err }, 'heapstream failed');
    supervisor.abort();
    return 1;
  } finally {
    watcher?.close();
    progress?.clear();
    await stopOps();
    logger.flush();
    // The summary comes last, after every log line, where a person looks first.
    if (startLine !== undefined) process.stderr.write(`${startLine}\n`);
    if (lossLine !== undefined) process.stderr.write(`${lossLine}\n`);
  }
}

/** What the sinks of the config in force write: built again when a reload applies another config. */
function writtenByCurrentSinks(current: () => PipelineConfig): Written {
  let built: { config: PipelineConfig; written: Written } | undefined;
  return (set, metric) => {
    const config = current();
    if (built?.config !== config) {
      built = { config, written: writtenBySinks(config.sinks.map((s) => s.options.select)) };
    }
    return built.written(set, metric);
  };
}

/** Calls `onChange` once per burst of changes to a file (editors write in several steps). */
function watchFile(path: string, onChange: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  });
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
