import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Resolves a secret given either inline (usually `${env:NAME}`) or as a `*_file` key, for components with
 * `foo`/`foo_file` pairs. A file is read relative to the pipeline file's directory and trimmed, since files
 * written by editors and Kubernetes secret mounts often end in a newline. Returns undefined when neither is set.
 *
 * @example
 * const token = readSecret(config.token, config.token_file, ctx.baseDir, 'token');
 */
export function readSecret(
  value: string | undefined,
  file: string | undefined,
  baseDir: string,
  key = 'secret',
): string | undefined {
  if (value !== undefined && file !== undefined) {
    throw new ConfigError([`${key} and ${key}_file are both set: use one of them`]);
  }
  if (file === undefined) return value;
  const path = resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${key}_file: cannot read ${path}: ${reason}`], { cause: error });
  }
  const secret = text.trim();
  if (secret === '') throw new ConfigError([`${key}_file: ${path} is empty`]);
  return secret;
}
