import type { Clock, Tick } from '../component/clock.js';
import { LogLimiter } from '../component/log-limiter.js';
import type { Logger } from '../component/logger.js';
import type { Telemetry } from '../component/telemetry.js';

/**
 * What the clock asks each sink before a cycle: whether its `when_full` policy holds the next cycle back. Only
 * `block` with a full queue says yes (it accepts the cycle in progress and holds back the next); the drop policies
 * never do. A sink runner implements it; so could a durable buffer later.
 */
export interface CycleBackPressure {
  readonly name: string;
  isBlocking(): boolean;
}

/**
 * The filter on the resolution clock's ticks: a cycle goes ahead unless a sink holds it back, and a skipped cycle
 * is counted (`heapstream_cycles_skipped_total{reason="sink_full"}`) and logged, at most once a minute per set of
 * sinks, since a sink that stays full skips every cycle.
 *
 * @example
 * ticks.pipe(filter(cycleGate(runners, { telemetry, logger, clock })));
 */
export function cycleGate(
  sinks: readonly CycleBackPressure[],
  { telemetry, logger, clock }: { telemetry: Telemetry; logger: Logger; clock: Clock },
): (tick: Tick) => boolean {
  const skipped = telemetry.counter('heapstream_cycles_skipped_total', { reason: 'sink_full' });
  telemetry.describe('heapstream_cycles_skipped_total', 'Cycles not scraped, by reason.');
  const skipLog = new LogLimiter(logger, clock);
  return (tick) => {
    const blocking: string[] = [];
    for (const sink of sinks) if (sink.isBlocking()) blocking.push(sink.name);
    if (blocking.length === 0) return true;
    skipped.inc();
    skipLog.log(
      'warn',
      `cycle_skipped:${blocking.join(',')}`,
      { cycle: tick.cycle, sinks: blocking },
      `cycle skipped: the queue of sink ${blocking.join(', ')} is full (when_full: block)`,
    );
    return false;
  };
}
