import { createWriteStream } from 'node:fs';
import { z } from 'zod';
import { defineSink } from '../src/component/component.js';
import { stdoutSink } from '../sinks/stdout/stdout-sink.js';

/**
 * The built-in stdout sink in its JSON Lines format, writing to /dev/null instead of the terminal: the bench's
 * measure of what encoding every set costs (the "stdout JSON Lines sink writing to /dev/null" row).
 *
 * @example
 * registry.register(jsonlToDevNull()); // then `sinks: { jsonl: { type: bench_jsonl } }`
 */
export function jsonlToDevNull() {
  return defineSink({
    type: 'bench_jsonl',
    description: 'The stdout sink (jsonl) writing to /dev/null (bench only).',
    config: z.strictObject({}),
    create: () => stdoutSink({ format: 'jsonl', max_rows: 0 }, createWriteStream('/dev/null')),
  });
}
