import { loadPluginRegistry, pipelineJsonSchema } from '../config/index.js';
import { createBuiltinRegistry } from '../builtins.js';
import { ConfigError } from '../component/errors.js';

/**
 * `heapstream schema`: the JSON Schema of pipeline files on stdout. With `config`, the types of that file's
 * `plugins:` are included (its modules are imported; only they are checked). 1 when a plugin cannot be used.
 */
export async function schemaCommand(opts: { config?: string } = {}): Promise<number> {
  let registry = createBuiltinRegistry();
  if (opts.config !== undefined) {
    try {
      registry = await loadPluginRegistry(opts.config, registry);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(
        `${err.problems.join('\n')}\n${err.problems.length} problem(s) in ${opts.config}\n`,
      );
      return 1;
    }
  }
  process.stdout.write(JSON.stringify(pipelineJsonSchema(registry), null, 2) + '\n');
  return 0;
}
