import { Subject, from, lastValueFrom, tap, toArray, type OperatorFunction } from 'rxjs';
import type { ComponentContext, ProcessorDefinition } from '../component/component.js';
import type { PipelineEvent } from '../model/types.js';
import { testContext } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { cloneEvent } from './clone-event.js';

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
 * and returns what it emitted, after the input completed. The processor owns the events it is given, as in a
 * pipeline: it may fill their sets' values and labeled lists in place, so give each run events of its own. Their
 * labels and labeled entries, which processors share and never change, are frozen first (in place), so a
 * processor that changes them fails the test with a TypeError.
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
  for (const event of events) freezeShared(event);
  return lastValueFrom(from(events).pipe(operatorOf(processor, config, ctx), toArray()));
}

/**
 * Freezes what a processor receives but does not own: the labels objects and labeled entries of a batch's sets
 * (shared across sets and cycles), and cycle marks. The batch, its sets, their values and labeled lists stay
 * writable: they are the processor's to fill.
 */
function freezeShared<E extends PipelineEvent>(event: E): E {
  if (event.kind !== 'batch') return deepFreeze(event);
  for (const set of event.sets) {
    deepFreeze(set.labels);
    for (const value of set.labeled) deepFreeze(value);
  }
  return event;
}

export interface ContractReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * Checks the rules every processor must keep: labels are never changed, and neither is anything it already passed
 * on (each event it emits is deep-frozen at once, as what sinks receive is read-only, so a later change throws);
 * each subscription has its own state (two runs give the same output), it completes when its input completes
 * (flushing what it holds), and it emits nothing after unsubscribe. Each run gets its own copy of `events`.
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
  // A processor owns what it is given: each run its own copy, as each scrape gives fresh batches.
  const fresh = () => events.map((e) => freezeShared(cloneEvent(e)));
  const operator = operatorOf(processor, config, makeCtx());
  const run = () =>
    lastValueFrom(
      from(fresh()).pipe(
        operator,
        tap((e) => deepFreeze(e)),
        toArray(),
      ),
    );

  let first: PipelineEvent[] = [];
  try {
    first = await run();
  } catch (err) {
    problems.push(`fails, or changes labels or what it already passed on: ${(err as Error).message}`);
  }
  try {
    const second = await run();
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
  for (const e of fresh()) input.next(e);
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
  const lateEvents = fresh();
  const half = Math.floor(lateEvents.length / 2);
  for (const e of lateEvents.slice(0, half)) late.next(e);
  sub.unsubscribe();
  unsubscribed = true;
  for (const e of lateEvents.slice(half)) late.next(e);
  late.complete();
  await new Promise((r) => setTimeout(r, 10));
  if (afterUnsubscribe > 0) problems.push(`emitted ${afterUnsubscribe} events after unsubscribe`);

  return { ok: problems.length === 0, problems };
}
