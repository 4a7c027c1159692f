import { loadPipelineConfig } from '../config/index.js';
import { createBuiltinRegistry } from '../engine/builtins.js';
import { systemClock } from '../engine/clock.js';
import { startOps } from './ops.js';
import { createLogger } from '../engine/logger.js';
import { createPipeline } from '../engine/pipeline.js';
import { ConfigError } from '../errors.js';

/**
 * `heapstream run`: builds the pipeline and runs it until SIGINT/SIGTERM or `--cycles`. The first signal stops
 * scraping and drains the sinks; a second one aborts in-flight work.
 */
export async function runCommand(opts: {
  config: string;
  cycles?: number;
  logLevel?: string;
}): Promise<number> {
  const registry = createBuiltinRegistry();
  let config;
  try {
    config = await loadPipelineConfig(opts.config, registry);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `${err.problems.join('\n')}\n${err.problems.length} problem(s) in ${opts.config}\n`,
      );
      return 1;
    }
    throw err;
  }
  const logger = createLogger({ level: opts.logLevel ?? config.log.level });
  const clock = systemClock();
  const pipeline = createPipeline(config, {
    registry,
    logger,
    clock,
    ...(opts.cycles === undefined ? {} : { cycles: opts.cycles }),
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'stopping: no new cycles; draining sinks (signal again to abort)');
      pipeline.stop();
    } else {
      logger.warn({ signal }, 'aborting in-flight work');
      pipeline.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `heapstream run | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') pipeline.abort();
  });
  logger.info(
    { config: opts.config, resolutionMs: config.resolutionMs, sinks: config.sinks.map((s) => s.name) },
    'heapstream started',
  );
  let stopOps: () => Promise<void> = () => Promise.resolve();
  try {
    stopOps = await startOps(config, pipeline, clock, logger);
    await pipeline.run();
    logger.info('heapstream stopped');
    return 0;
  } catch (err) {
    logger.error({ err }, 'heapstream failed');
    return 1;
  } finally {
    await stopOps();
    logger.flush();
  }
}
