import { loadPipelineConfig } from '../config/index.js';
import { createBuiltinRegistry } from '../builtins.js';
import { ConfigError } from '../component/errors.js';

/** `heapstream validate`: 0 when the file is valid, 1 with every problem listed on stderr. */
export async function validateCommand(opts: { config: string }): Promise<number> {
  try {
    const config = await loadPipelineConfig(opts.config, createBuiltinRegistry());
    process.stdout.write(
      `${opts.config}: ok (source ${config.source.type}, ${config.processors.length} processors, ` +
        `${config.sinks.length} sinks)\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `${err.problems.join('\n')}\n${err.problems.length} problem(s) in ${opts.config}\n`,
      );
      return 1;
    }
    throw err;
  }
}
