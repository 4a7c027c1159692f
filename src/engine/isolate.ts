import { Observable, Subject, type OperatorFunction, type Subscription } from 'rxjs';
import type { PipelineEvent } from '../model/types.js';

/** What the isolation does with an event on which the processor failed. */
export interface IsolationOptions {
  /** `pass`: the batch goes on as the processor left it (it owned the batch, see docs/plugins.md); `drop`: it is discarded. Cycle marks always go on. */
  readonly onError: 'pass' | 'drop';
  /** Called once per failure with the event being processed, or undefined when the failure came later. */
  readonly report: (error: unknown, event: PipelineEvent | undefined) => void;
}

/**
 * Runs a processor's operator so that its failures cannot end the pipeline. Events are fed to the processor one at a
 * time; when its stream errors while an event is being fed, that event is blamed, reported, and passed
 * on or dropped. The operator is then subscribed afresh for the next event: since a processor keeps its
 * state inside its subscription, a failure costs the processor its state, never the stream. A processor that completes
 * early is also resubscribed, so it cannot swallow the rest of the stream.
 *
 * @example
 * source$.pipe(isolate(def.create(config, ctx), { onError: 'pass', report: (err) => log(err) }));
 */
export function isolate(
  operator: OperatorFunction<PipelineEvent, PipelineEvent>,
  options: IsolationOptions,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      let input: Subject<PipelineEvent> | undefined;
      let inner: Subscription | undefined;
      let feeding: PipelineEvent | undefined;
      let failedWhileFeeding = false;
      let sourceDone = false;

      const start = (): Subject<PipelineEvent> => {
        const subject = new Subject<PipelineEvent>();
        input = subject;
        const detach = () => {
          if (input === subject) input = undefined;
        };
        const fail = (error: unknown) => {
          detach();
          if (feeding !== undefined) failedWhileFeeding = true;
          options.report(error, feeding);
          if (sourceDone) subscriber.complete();
        };
        let output: Observable<PipelineEvent>;
        try {
          // An operator is a plain function: it may throw as it is applied, before any subscription.
          output = operator(subject);
        } catch (error) {
          fail(error);
          return subject;
        }
        inner = output.subscribe({
          next: (event) => subscriber.next(event),
          error: fail,
          complete: () => {
            detach();
            if (sourceDone) subscriber.complete();
          },
        });
        return subject;
      };

      const outer = source.subscribe({
        next(event) {
          feeding = event;
          failedWhileFeeding = false;
          try {
            // Started here, inside the feed, so that an operator failing as it is subscribed is blamed on the event.
            (input ?? start()).next(event);
          } finally {
            feeding = undefined;
          }
          if (!failedWhileFeeding) return;
          // A mark says a cycle is over; dropping it would stall everything downstream that waits for it.
          if (event.kind === 'cycle_end' || options.onError === 'pass') subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceDone = true;
          // Completing the processor's input lets it flush what it holds; it completes the output in turn.
          if (input === undefined) subscriber.complete();
          else input.complete();
        },
      });

      return () => {
        outer.unsubscribe();
        inner?.unsubscribe();
      };
    });
}
