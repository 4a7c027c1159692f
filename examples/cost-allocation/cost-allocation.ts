import { Observable, type OperatorFunction } from 'rxjs';
import {
  SetValues,
  type ClusterBatch,
  type CycleEnd,
  type MetricSet,
  type PipelineEvent,
} from '../../src/index.js';
import type { CostAllocationConfig } from './config.js';

const MS_PER_HOUR = 3_600_000;
const BYTES_PER_GIB = 1024 ** 3;

/** What one team used in one cycle: sums over its pods. */
interface TeamUsage {
  millicores: number;
  workingSetBytes: number;
  pods: number;
}

/**
 * The value of `key` in a joined label string such as `app:web,team:payments`, or undefined. A pair only
 * matches at its start, so `team` does not match `team.example.com/owner:x`.
 *
 * @example
 * labelFromJoined('app:web,team:payments', 'team', ',') // 'payments'
 */
export function labelFromJoined(joined: string, key: string, separator: string): string | undefined {
  const prefix = key + ':';
  let start = 0;
  while (start <= joined.length) {
    const end = joined.indexOf(separator, start);
    const stop = end < 0 ? joined.length : end;
    if (joined.startsWith(prefix, start)) return joined.slice(start + prefix.length, stop);
    if (end < 0) return undefined;
    start = end + separator.length;
  }
  return undefined;
}

/** The team of a pod set: its own label of that name, else the joined Kubernetes labels, else `unallocated`. */
function teamOf(set: MetricSet, config: CostAllocationConfig): string {
  const direct = set.labels[config.team_label];
  if (direct !== undefined && direct !== '') return direct;
  const joined = set.labels.labels;
  const fromJoined =
    joined === undefined ? undefined : labelFromJoined(joined, config.team_label, config.label_separator);
  return fromJoined === undefined || fromJoined === '' ? config.unallocated : fromJoined;
}

function teamSets(usage: Map<string, TeamUsage>, config: CostAllocationConfig, hours: number): MetricSet[] {
  const teams = [...usage.keys()].sort();
  return teams.map((team) => {
    const used = usage.get(team) as TeamUsage;
    const cpu = (used.millicores / 1000) * hours * config.cpu_core_hour;
    const memory = (used.workingSetBytes / BYTES_PER_GIB) * hours * config.memory_gib_hour;
    return {
      type: 'cluster',
      key: `cluster/team:${team}`,
      labels: { type: 'cluster', team, currency: config.currency },
      values: SetValues.from({
        'cost/cpu': cpu,
        'cost/memory': memory,
        'cost/total': cpu + memory,
        'cpu/usage_rate': used.millicores,
        'memory/working_set': used.workingSetBytes,
        pods: used.pods,
      }),
      labeled: [],
      scrapeTime: 0,
      startTime: 0,
    };
  });
}

/**
 * Prices each team's CPU and memory once per cycle. Pod sets of node batches are summed per team as they pass
 * (batches go on untouched); at the cycle's end mark, one cluster batch with a set per team is emitted before
 * the mark. A cycle stands for one resolution interval, so cost = usage × resolution in hours × price.
 *
 * @example
 * source$.pipe(costAllocation(costAllocationConfig.parse({ cpu_core_hour: 0.04, memory_gib_hour: 0.005 }), 15_000))
 */
export function costAllocation(
  config: CostAllocationConfig,
  resolutionMs: number,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const hours = resolutionMs / MS_PER_HOUR;
  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      // State of this subscription only: cycle → team → usage. Entries go once their cycle's mark is seen.
      const cycles = new Map<number, Map<string, TeamUsage>>();

      const add = (cycle: number, sets: readonly MetricSet[]) => {
        let usage = cycles.get(cycle);
        for (const set of sets) {
          if (set.type !== 'pod') continue;
          if (usage === undefined) {
            usage = new Map<string, TeamUsage>();
            cycles.set(cycle, usage);
          }
          const team = teamOf(set, config);
          let used = usage.get(team);
          if (used === undefined) {
            used = { millicores: 0, workingSetBytes: 0, pods: 0 };
            usage.set(team, used);
          }
          used.millicores += set.values.get('cpu/usage_rate') ?? 0;
          used.workingSetBytes += set.values.get('memory/working_set') ?? 0;
          used.pods++;
        }
      };

      const emit = (mark: CycleEnd) => {
        const usage = cycles.get(mark.cycle);
        for (const cycle of cycles.keys()) if (cycle <= mark.cycle) cycles.delete(cycle);
        if (usage === undefined) return;
        const batch: ClusterBatch = {
          kind: 'batch',
          scope: 'cluster',
          cycle: mark.cycle,
          timestamp: mark.timestamp,
          sets: teamSets(usage, config, hours),
        };
        subscriber.next(batch);
      };

      return source.subscribe({
        next(event) {
          if (event.kind === 'cycle_end') emit(event);
          // Only node batches: cluster batches hold aggregates of the same pods, which would count them twice.
          else if (event.scope === 'node') add(event.cycle, event.sets);
          subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
