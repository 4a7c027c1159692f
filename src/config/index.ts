export { duration, parseDuration } from '../component/duration.js';
export { substituteEnv, type Env, type Substitution } from './env.js';
export { pipelineJsonSchema } from './json-schema.js';
export {
  loadPipelineConfig,
  loadPipelineConfigText,
  parsePipelineConfig,
  type LoadOptions,
  type ParseOptions,
} from './load.js';
export {
  CUSTOM_PROCESSOR_TYPE,
  PreloadedPlugins,
  preloadPlugins,
  type PluginImporter,
  type PluginResult,
} from './plugins.js';
export { formatPath, formatProblem, formatProblems, type PathSegment, type Problem } from './problems.js';
export { LOG_LEVELS, pipelineFileSchema, SINK_NAME, type PipelineSettings } from './schema.js';
export { readSecret } from '../component/secrets.js';
export { closestMatch, didYouMean, editDistance } from './suggest.js';
export type { ComponentEntry, PipelineConfig, SinkEntry } from './types.js';
