import { ConfigError } from '../component/errors.js';

/**
 * Exit code of a run that could not start because of a config mistake only found then: a file that cannot be
 * read (a CA, a token, a kubeconfig), credentials the API server refuses. Distinct from 1 (the file is invalid:
 * `validate` says so too) and 3 (data lost).
 */
export const EXIT_START_FAILED = 2;

/**
 * The one line a person reads when the run could not start, or undefined when `err` is not such a mistake (a
 * fault, which keeps its stack in the log).
 *
 * @example
 * startFailureLine('pipeline.yaml', new ConfigError(['sinks.lake.tls.ca_file: cannot read /etc/ca.pem: ENOENT']))
 * // 'heapstream: cannot start pipeline.yaml: sinks.lake.tls.ca_file: cannot read /etc/ca.pem: ENOENT'
 */
export function startFailureLine(file: string, err: unknown): string | undefined {
  if (!(err instanceof ConfigError)) return undefined;
  // One line, even when a problem quotes a multi-line message from below (a TLS or YAML library's, say).
  const problems = err.problems.map((p) => p.replace(/\s*\n\s*/g, ' ')).join('; ');
  return `heapstream: cannot start ${file}: ${problems}`;
}
