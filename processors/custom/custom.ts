import type { OperatorFunction } from 'rxjs';
import type { ComponentContext, ProcessorDefinition } from '../../src/component/component.js';
import { LogLimiter } from '../../src/component/log-limiter.js';
import { statefulOperator } from '../../src/component/operators.js';
import { ConfigError } from '../../src/component/errors.js';
import type { PipelineEvent } from '../../src/model/types.js';
import type { CustomConfig } from './config.js';
import { isolate } from './isolate.js';

/**
 * A `custom` entry as the config loader resolves it: its own keys, `config` already validated by the plugin's
 * schema, and the plugin's definition, imported before validation.
 */
export interface ResolvedCustomConfig extends CustomConfig {
  readonly plugin: ProcessorDefinition;
}

/**
 * The config `custom` expects for a plugin at hand, without a pipeline file: for tests and embedders. The
 * plugin's `config` is parsed with its own schema here.
 *
 * @example
 * const op = custom.create(customConfigFor(myPlugin, { config: { top: 3 } }), ctx);
 */
export function customConfigFor(
  plugin: ProcessorDefinition,
  options: { config?: unknown; on_error?: 'pass' | 'drop'; module?: string; export?: string } = {},
): ResolvedCustomConfig {
  return {
    module: options.module ?? `(${plugin.type})`,
    export: options.export ?? 'default',
    on_error: options.on_error ?? 'pass',
    config: plugin.config.parse(options.config ?? {}),
    plugin,
  };
}

function pluginOf(config: CustomConfig, id: string): ProcessorDefinition {
  const plugin = (config as Partial<ResolvedCustomConfig>).plugin;
  if (plugin === undefined) {
    throw new ConfigError([
      `processor ${id}: module "${config.module}" was not imported; load the pipeline with loadPipelineConfig, ` +
        'which imports plugins, or pass them to parsePipelineConfig as preloaded plugins',
    ]);
  }
  return plugin;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * The `custom` processor's operator: the plugin's own operator, isolated so that a batch it throws on is
 * counted in `heapstream_processor_errors_total{processor}`, logged with the plugin's name (at most once a
 * minute per distinct error, with a count), and passed on or dropped as `on_error` says.
 *
 * @example
 * const op = customOperator(customConfigFor(plugin), ctx);
 */
export function customOperator(
  config: CustomConfig,
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const plugin = pluginOf(config, ctx.id);
  const logger = ctx.logger.child({ plugin: plugin.type, module: config.module });
  let operator: OperatorFunction<PipelineEvent, PipelineEvent>;
  try {
    operator = plugin.create(config.config, { ...ctx, logger });
  } catch (error) {
    throw new ConfigError(
      [`processor ${ctx.id}: plugin "${plugin.type}" failed to start: ${firstLine(error)}`],
      {
        cause: error,
      },
    );
  }
  const errors = ctx.telemetry.counter('heapstream_processor_errors_total', { processor: ctx.id });
  const action = config.on_error === 'pass' ? 'passed on unprocessed' : 'dropped';
  return statefulOperator(
    () => new LogLimiter(logger, ctx.clock),
    (limiter) =>
      isolate(operator, {
        onError: config.on_error,
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
            `processor ${ctx.id}: plugin ${plugin.type} failed on ${what}` +
              (event === undefined ? '; restarted' : `, which was ${blamed}; restarted`),
          );
        },
      }),
  );
}
