/** One segment of a key path: a mapping key or a list index. */
export type PathSegment = string | number;

/** A mistake found in the configuration, positioned at a 1-based line and column. */
export interface Problem {
  readonly line: number;
  readonly col: number;
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Renders a key path the way users read it: `sinks.lake.buffer`, `processors[2].levels[0]`.
 *
 * @example
 * formatPath(['processors', 2, 'levels']) // 'processors[2].levels'
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!SIMPLE_KEY.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/**
 * Formats a problem as `file:line:col key.path: message` (the path is left out when the problem is about the
 * whole file).
 *
 * @example
 * formatProblem('pipeline.yaml', { line: 13, col: 5, path: ['sinks', 'influx', 'databse'], message: 'unknown key' })
 * // 'pipeline.yaml:13:5 sinks.influx.databse: unknown key'
 */
export function formatProblem(file: string, problem: Problem): string {
  const path = formatPath(problem.path);
  const where = `${file}:${problem.line}:${problem.col}`;
  return path === '' ? `${where} ${problem.message}` : `${where} ${path}: ${problem.message}`;
}

/**
 * Sorts problems by position (then path, for a stable order) and formats them, dropping exact duplicates,
 * which arise when two checks see the same mistake.
 *
 * @example
 * formatProblems('pipeline.yaml', problems) // ['pipeline.yaml:3:1 …', 'pipeline.yaml:9:7 …']
 */
export function formatProblems(file: string, problems: readonly Problem[]): string[] {
  const sorted = [...problems].sort(
    (a, b) => a.line - b.line || a.col - b.col || formatPath(a.path).localeCompare(formatPath(b.path)),
  );
  return [...new Set(sorted.map((problem) => formatProblem(file, problem)))];
}
