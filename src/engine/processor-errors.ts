import type { OperatorFunction } from 'rxjs';
import type { ComponentContext, ProcessorDefinition } from '../component/component.js';
import { ConfigError, HeapstreamError } from '../component/errors.js';
import { LogLimiter } from '../component/log-limiter.js';
import { statefulOperator } from '../component/operators.js';
import type { ProcessorEntry } from '../config/index.js';
import type { PipelineEvent } from '../model/types.js';
import { isolate } from './isolate.js';

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * A processor of the pipeline with its failures isolated, as its entry's `on_error` says: a batch it fails on
 * is counted in `heapstream_processor_errors_total{processor}`, logged (at most once a minute per distinct error,
 * with a count), and passed on unprocessed (`pass`) or dropped (`drop`); the processor then starts afresh. The
 * same for built-in and plugin processors. A processor whose `create` throws a plain Error is a one-line ConfigError.
 *
 * @example
 * stream.pipe(isolatedProcessor(def, entry, ctx));
 */
export function isolatedProcessor(
  def: ProcessorDefinition,
  entry: ProcessorEntry,
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  let operator: OperatorFunction<PipelineEvent, PipelineEvent>;
  try {
    operator = def.create(entry.config, ctx);
  } catch (error) {
    if (error instanceof HeapstreamError) throw error; // already says what is wrong
    throw new ConfigError([`processor ${ctx.id}: ${def.type} failed to start: ${firstLine(error)}`], {
      cause: error,
    });
  }
  const onError = entry.options.on_error;
  const errors = ctx.telemetry.counter('heapstream_processor_errors_total', { processor: ctx.id });
  const action = onError === 'pass' ? 'passed on unprocessed' : 'dropped';
  return statefulOperator(
    () => new LogLimiter(ctx.logger, ctx.clock),
    (limiter) =>
      isolate(operator, {
        onError,
        report(error, event) {
          errors.inc();
          const blamed = event?.kind === 'batch' ? action : 'passed on';
          const what =
            event === undefined ? 'after its input' : event.kind === 'batch' ? 'a batch' : 'a cycle mark';
          limiter.log(
            'error',
            firstLine(error),
            {
              err: error,
              node: event?.kind === 'batch' && event.scope === 'node' ? event.node : undefined,
              cycle: event?.cycle,
            },
            `processor ${ctx.id}: ${def.type} failed on ${what}` +
              (event === undefined ? '; restarted' : `, which was ${blamed}; restarted`),
          );
        },
      }),
  );
}
