export { duration, parseDuration } from '../component/duration.js';
export { substituteEnv, type Env, type Substitution } from './env.js';
export { pipelineJsonSchema } from './json-schema.js';
export {
  loadPipelineConfig,
  loadPipelineConfigText,
  loadPluginRegistry,
  parsePipelineConfig,
  type LoadOptions,
  type ParseOptions,
} from './load.js';
export { importPlugins, PreloadedPlugins, type PluginImporter, type PluginResult } from './plugins.js';
export { importPlugin } from './load-plugin.js';
export { processorOptionsSchema, type ProcessorOptions } from './processor-options.js';
export { formatPath, formatProblem, formatProblems, type PathSegment, type Problem } from './problems.js';
export { LOG_LEVELS, pipelineFileSchema, SINK_NAME, type PipelineSettings } from './schema.js';
export { readSecret } from '../component/secrets.js';
export { closestMatch, didYouMean, editDistance } from './suggest.js';
export type { ComponentEntry, PipelineConfig, ProcessorEntry, SinkEntry } from './types.js';
