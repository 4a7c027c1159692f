import type { ComponentDefinition } from '../component/component.js';
import type { ProcessorOptions } from './processor-options.js';
import type { SinkRunnerOptions } from './sink-options.js';
import type { PipelineSettings } from './schema.js';

/** One source or processor of the pipeline, validated against its definition's schema. */
export interface ComponentEntry {
  readonly type: string;
  /**
   * Its id in metric labels, log fields and errors: its `name:`, or else its type (`rate#2` for a second unnamed
   * `rate`). See component-ids.ts.
   */
  readonly id: string;
  /** Where it sits in the file: `source`, `processors[2]`. */
  readonly path: string;
  /** The output of the definition's zod schema, without `type`. */
  readonly config: Record<string, unknown>;
}

/** One processor of the pipeline: its own config and the options the engine applies to every processor. */
export interface ProcessorEntry extends ComponentEntry {
  readonly options: ProcessorOptions;
}

/** One sink of the pipeline: its own config and the delivery options the engine's sink runner applies. */
export interface SinkEntry {
  /** Its key under `sinks:`, which is also its id in metric labels, log fields and errors. */
  readonly name: string;
  readonly type: string;
  /** Where it sits in the file: `sinks.lake`. */
  readonly path: string;
  readonly options: SinkRunnerOptions;
  readonly config: Record<string, unknown>;
}

/**
 * A validated `pipeline.yaml`. Top-level keys other than the components (`log`, and later ones) come straight
 * from the top-level schema in schema.ts.
 */
export interface PipelineConfig extends PipelineSettings {
  /** The file as named by the caller, used in messages. */
  readonly file: string;
  /** Absolute directory of the file, against which relative paths in the config resolve. */
  readonly baseDir: string;
  readonly resolutionMs: number;
  /**
   * The definitions the modules of `plugins:` export: the pipeline's registry is the caller's plus these. Empty
   * without `plugins:`.
   */
  readonly plugins: readonly ComponentDefinition[];
  readonly source: ComponentEntry;
  readonly processors: readonly ProcessorEntry[];
  readonly sinks: readonly SinkEntry[];
}
