import { pipelineJsonSchema } from '../config/index.js';
import { createBuiltinRegistry } from '../builtins.js';

/** `heapstream schema`: the JSON Schema of pipeline files on stdout. */
export function schemaCommand(): number {
  process.stdout.write(JSON.stringify(pipelineJsonSchema(createBuiltinRegistry()), null, 2) + '\n');
  return 0;
}
