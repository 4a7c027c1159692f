import type { z } from 'zod';
import type { YamlLocator } from './positions.js';
import type { PathSegment, Problem } from './problems.js';
import { didYouMean } from './suggest.js';
import { pathKey } from './unknown-keys.js';

type Issue = z.core.$ZodIssue;

/** The message for a required key that is absent; load.ts drops it when an unknown key probably meant it. */
export const MISSING_KEY = 'missing required key';

// YAML users think in mappings and lists, not objects and arrays.
const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function describeInput(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return `the string ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`;
    case 'number':
    case 'boolean':
      return `${typeof input} ${String(input)}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof input;
  }
}

/**
 * Zod error map giving messages in the config's words. Messages a component set itself in its schema win,
 * because zod prefers a schema's own `error` over this per-parse one.
 *
 * @example
 * schema.safeParse(data, { error: configErrorMap });
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return MISSING_KEY;
    return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${describeInput(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((value) => JSON.stringify(value));
    const hint = typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : '';
    const expected = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`;
    return `expected ${expected}, got ${describeInput(issue.input)}${hint}`;
  }
  return undefined;
};

/** What issue conversion needs to know about the checks already made. */
export interface IssueContext {
  readonly locator: YamlLocator;
  /** Objects whose unknown keys were already reported, with suggestions. */
  readonly checkedObjects: ReadonlySet<string>;
  /** Keys an unknown key probably meant: not worth reporting as missing too. */
  readonly meantKeys: ReadonlySet<string>;
}

/**
 * Turns zod issues into positioned problems. `base` is where the validated data sits in the file.
 *
 * @example
 * problems.push(...issuesToProblems(result.error.issues, ['sinks', 'lake'], context));
 */
export function issuesToProblems(
  issues: readonly Issue[],
  base: readonly PathSegment[],
  context: IssueContext,
): Problem[] {
  const { locator, checkedObjects, meantKeys } = context;
  const visit = (issue: Issue, prefix: readonly PathSegment[]): Problem[] => {
    const path = [...prefix, ...(issue.path as PathSegment[])];
    switch (issue.code) {
      case 'unrecognized_keys':
        if (checkedObjects.has(pathKey(path))) return [];
        return issue.keys.map((key) => locator.problemAtKey([...path, key], 'unknown key'));
      case 'invalid_key':
        return [locator.problemAtKey(path, issue.issues.map((inner) => inner.message).join('; '))];
      case 'invalid_union': {
        // Report the member that came closest (fewest remaining complaints), not a bare "Invalid input".
        let closest: Problem[] | undefined;
        for (const branch of issue.errors) {
          const problems = branch
            .flatMap((inner) => visit(inner, path))
            .filter((p) => p.message !== MISSING_KEY || !meantKeys.has(pathKey(p.path)));
          if (closest === undefined || problems.length < closest.length) closest = problems;
        }
        return closest ?? [locator.problemAtValue(path, issue.message)];
      }
      default:
        return [locator.problemAtValue(path, issue.message)];
    }
  };
  return issues.flatMap((issue) => visit(issue, base));
}
