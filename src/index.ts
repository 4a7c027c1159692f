/**
 * heapstream's public API: the component definitions users extend the pipeline with, the data model, and the
 * helpers processors are built from.
 *
 * @example
 * import { defineProcessor, mapBatches } from 'heapstream';
 */
export {
  defineSource,
  defineProcessor,
  defineSink,
  type ComponentContext,
  type SourceContext,
  type Sink,
  type SourceDefinition,
  type ProcessorDefinition,
  type SinkDefinition,
  type ComponentDefinition,
} from './engine/component.js';
export { Registry } from './engine/registry.js';
export { createBuiltinRegistry } from './engine/builtins.js';
export { createPipeline, type Pipeline, type PipelineOptions } from './engine/pipeline.js';
export { Telemetry } from './engine/telemetry.js';
export { createLogger, silentLogger, type Logger } from './engine/logger.js';
export { systemClock, resolutionClock, type Clock, type Tick } from './engine/clock.js';
export * from './engine/operators.js';
export { duration, parseDuration } from './config/duration.js';
export {
  loadPipelineConfig,
  loadPipelineConfigText,
  parsePipelineConfig,
  PreloadedPlugins,
  type PipelineConfig,
  type ComponentEntry,
  type SinkEntry,
  type LoadOptions,
  type ParseOptions,
  type PluginImporter,
} from './config/index.js';
export * from './model/index.js';
export * from './errors.js';
export type {
  MetadataProvider,
  PodMeta,
  NamespaceMeta,
  NodeMeta,
  ContainerSpecMeta,
} from './kube/metadata.js';
export { staticMetadata } from './kube/metadata.js';
