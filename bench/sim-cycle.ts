/**
 * Pieces the in-process benches share to run simulated cycles through the built-in processors without HTTP.
 */
import { Subject, type OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../src/component/component.js';
import type { Registry } from '../src/component/registry.js';
import type { CycleEnd, PipelineEvent } from '../src/model/types.js';

/** The mark that ends cycle `cycle` (tick time `tick`) after every one of `nodes` nodes answered. */
export function cycleEnd(cycle: number, tick: number, nodes: number): CycleEnd {
  return {
    kind: 'cycle_end',
    cycle,
    timestamp: tick,
    nodesExpected: nodes,
    nodesAnswered: nodes,
    failures: [],
    durationMs: 0,
  };
}

/** An operator fed by hand: push a cycle's events, get what comes out synchronously. */
export function operatorFeeder(
  operator: OperatorFunction<PipelineEvent, PipelineEvent>,
): (events: readonly PipelineEvent[]) => PipelineEvent[] {
  const input = new Subject<PipelineEvent>();
  let out: PipelineEvent[] = [];
  operator(input).subscribe((e) => out.push(e));
  return (events) => {
    out = [];
    for (const e of events) input.next(e);
    return out;
  };
}

/** A built-in processor fed by hand (every built-in processor is synchronous). */
export function processorStage(
  registry: Registry,
  ctx: ComponentContext,
  type: string,
  config: unknown,
): (events: readonly PipelineEvent[]) => PipelineEvent[] {
  const def = registry.get('processor', type)!;
  return operatorFeeder(def.create(def.config.parse(config), { ...ctx, id: type }));
}
