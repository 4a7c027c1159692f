export { duration, parseDuration } from './duration.js';
export { substituteEnv, type Env, type Substitution } from './env.js';
export { pipelineJsonSchema } from './json-schema.js';
export { loadPipelineConfig, parsePipelineConfig } from './load.js';
export { formatPath, formatProblem, formatProblems, type PathSegment, type Problem } from './problems.js';
export { LOG_LEVELS, pipelineFileSchema, SINK_NAME, type PipelineSettings } from './schema.js';
export { readSecret } from './secrets.js';
export { closestMatch, didYouMean, editDistance } from './suggest.js';
export type { ComponentEntry, PipelineConfig, SinkEntry } from './types.js';
