import { Subject, from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import type { ComponentContext, ProcessorDefinition } from '../component/component.js';
import type { PipelineEvent } from '../model/types.js';
import { testContext } from './context.js';

type ProcessorUnderTest = ProcessorDefinition | OperatorFunction<PipelineEvent, PipelineEvent>;

function operatorOf(
  processor: ProcessorUnderTest,
  config: unknown,
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  if (typeof processor === 'function') return processor;
  return processor.create(processor.config.parse(config ?? {}), ctx);
}

/**
 * Runs a processor (a definition with its raw config, or an operator, whose config is then ignored) over events
 * and returns what it emitted, after the input completed. The events are deep-frozen first, in place, so a
 * processor that mutates its input fails the test with a TypeError.
 *
 * @example
 * const out = await runProcessor(rate, {}, [batch1, mark1, batch2, mark2]);
 */
export async function runProcessor(
  processor: ProcessorUnderTest,
  config: unknown,
  events: readonly PipelineEvent[],
  ctx: ComponentContext = testContext(),
): Promise<PipelineEvent[]> {
  for (const event of events) deepFreeze(event);
  return lastValueFrom(from(events).pipe(operatorOf(processor, config, ctx), toArray()));
}

/** Freezes an object graph so that any mutation by a processor throws (ES modules run in strict mode). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

export interface ContractReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * Checks the rules every processor must keep: inputs are never mutated (they are frozen, so mutation throws),
 * each subscription has its own state (two runs give the same output), it completes when its input completes
 * (flushing what it holds), and it emits nothing after unsubscribe.
 *
 * @example
 * expect((await checkProcessorContract(myProcessor, {}, events)).problems).toEqual([]);
 */
export async function checkProcessorContract(
  processor: ProcessorUnderTest,
  config: unknown,
  events: readonly PipelineEvent[],
  makeCtx: () => ComponentContext = () => testContext(),
): Promise<ContractReport> {
  const problems: string[] = [];
  const frozen = events.map((e) => deepFreeze(structuredClone(e)));
  const operator = operatorOf(processor, config, makeCtx());

  let first: PipelineEvent[] = [];
  try {
    first = await lastValueFrom(from(frozen).pipe(operator, toArray()));
  } catch (err) {
    problems.push(`mutates its input or fails on it: ${(err as Error).message}`);
  }
  try {
    const second = await lastValueFrom(from(frozen).pipe(operator, toArray()));
    if (JSON.stringify(second) !== JSON.stringify(first)) {
      problems.push('a second subscription gave different output: state must live inside the subscription');
    }
  } catch (err) {
    problems.push(`second subscription failed: ${(err as Error).message}`);
  }

  const input = new Subject<PipelineEvent>();
  let completed = false;
  // Errors were reported by the first run; here only completion matters.
  input.pipe(operator).subscribe({ complete: () => (completed = true), error: () => undefined });
  for (const e of frozen) input.next(e);
  input.complete();
  if (!completed) problems.push('did not complete when its input completed');

  const late = new Subject<PipelineEvent>();
  let afterUnsubscribe = 0;
  let unsubscribed = false;
  const sub = late.pipe(operator).subscribe({
    next: () => {
      if (unsubscribed) afterUnsubscribe++;
    },
    error: () => undefined,
  });
  const half = Math.floor(frozen.length / 2);
  for (const e of frozen.slice(0, half)) late.next(e);
  sub.unsubscribe();
  unsubscribed = true;
  for (const e of frozen.slice(half)) late.next(e);
  late.complete();
  await new Promise((r) => setTimeout(r, 10));
  if (afterUnsubscribe > 0) problems.push(`emitted ${afterUnsubscribe} events after unsubscribe`);

  return { ok: problems.length === 0, problems };
}
