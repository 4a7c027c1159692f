import { SET_TYPES, type SetType } from '../model/catalogue.js';
import type { PipelineEvent } from '../model/types.js';
import { countBatch } from '../model/count.js';
import type { Clock } from '../component/clock.js';
import type { Counter, Telemetry } from '../component/telemetry.js';

/**
 * Counts what leaves the processors (sets and values per set type) and records each cycle's outcome, which
 * /metrics exports and the health checks read.
 */
export function pipelineObserver(telemetry: Telemetry, clock: Clock): (event: PipelineEvent) => void {
  telemetry.describe('heapstream_sets_emitted_total', 'Metric sets that reached the sinks, by set type.');
  telemetry.describe('heapstream_values_emitted_total', 'Metric values that reached the sinks, by set type.');
  telemetry.describe('heapstream_cycles_total', 'Cycles completed.');
  telemetry.describe('heapstream_cycle_nodes_expected', 'Nodes known at the start of the last cycle.');
  telemetry.describe('heapstream_cycle_nodes_answered', 'Nodes that answered in the last cycle.');
  telemetry.describe('heapstream_cycle_lateness_seconds', 'Time from the tick to the end of the cycle.');
  telemetry.describe('heapstream_last_cycle_end_timestamp_seconds', 'When the last cycle ended (unix time).');
  const sets = new Map<SetType, Counter>(
    SET_TYPES.map((t) => [t, telemetry.counter('heapstream_sets_emitted_total', { type: t })]),
  );
  const values = new Map<SetType, Counter>(
    SET_TYPES.map((t) => [t, telemetry.counter('heapstream_values_emitted_total', { type: t })]),
  );
  const cycles = telemetry.counter('heapstream_cycles_total');
  const expected = telemetry.gauge('heapstream_cycle_nodes_expected');
  const answered = telemetry.gauge('heapstream_cycle_nodes_answered');
  const lastCycle = telemetry.gauge('heapstream_last_cycle_end_timestamp_seconds');
  const lateness = telemetry.histogram('heapstream_cycle_lateness_seconds');
  return (event) => {
    if (event.kind === 'cycle_end') {
      cycles.inc();
      expected.set(event.nodesExpected);
      answered.set(event.nodesAnswered);
      lastCycle.set(clock.now() / 1000);
      lateness.observe(event.durationMs / 1000);
      return;
    }
    for (const [type, count] of countBatch(event).byType) {
      sets.get(type)?.inc(count.sets);
      values.get(type)?.inc(count.values);
    }
  };
}
