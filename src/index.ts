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
} from './component/component.js';
export { writeAllPieces, type PieceWriter, type EncodedBatch } from './component/pieces.js';
export { Registry } from './component/registry.js';
export { createBuiltinRegistry } from './builtins.js';
export { createPipeline, type Pipeline, type PipelineOptions } from './engine/pipeline.js';
export { Telemetry } from './component/telemetry.js';
export { createLogger, silentLogger, type Logger } from './component/logger.js';
export { systemClock, resolutionClock, type Clock, type Tick } from './component/clock.js';
export * from './component/operators.js';
export { duration, parseDuration } from './component/duration.js';
export {
  loadPipelineConfig,
  loadPipelineConfigText,
  loadPluginRegistry,
  parsePipelineConfig,
  PreloadedPlugins,
  type PipelineConfig,
  type ComponentEntry,
  type ProcessorEntry,
  type ProcessorOptions,
  type SinkEntry,
  type LoadOptions,
  type ParseOptions,
  type PluginImporter,
} from './config/index.js';
export * from './model/index.js';
export * from './component/errors.js';
export type {
  MetadataProvider,
  PodMeta,
  NamespaceMeta,
  NodeMeta,
  ContainerSpecMeta,
} from './component/metadata.js';
export { staticMetadata } from './component/metadata.js';
