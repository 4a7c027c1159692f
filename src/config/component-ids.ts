import { z } from 'zod';
import { configErrorMap } from './issues.js';
import type { YamlLocator } from './positions.js';
import type { PathSegment, Problem } from './problems.js';

/**
 * A user-given `name:` of a source or processor. It becomes a metric label value and a log field, so it stays
 * snake_case; `#` is left out on purpose, so a generated id (`rate#2`) never equals a given name.
 */
export const componentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, { message: 'names are snake_case: a-z first, then a-z, 0-9 and "_"' })
  .max(63)
  .describe(
    'Id of this component in metric labels, log fields and errors (default: its type). Unique among processors.',
  );

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entry's `name:` when it has a valid one; an invalid one is recorded as a problem. */
function givenName(
  entry: unknown,
  path: readonly PathSegment[],
  locator: YamlLocator,
  problems: Problem[],
): string | undefined {
  if (!isPlainObject(entry) || entry.name === undefined) return undefined;
  const parsed = componentNameSchema.safeParse(entry.name, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? 'invalid name';
  problems.push(locator.problemAtValue([...path, 'name'], message));
  return undefined;
}

function typeOf(entry: unknown, fallback: string): string {
  return isPlainObject(entry) && typeof entry.type === 'string' ? entry.type : fallback;
}

/**
 * The source's id: its `name:`, or else its type (`kubelet_summary`).
 *
 * @example
 * sourceId({ type: 'kubelet_summary' }, locator, problems) // 'kubelet_summary'
 */
export function sourceId(entry: unknown, locator: YamlLocator, problems: Problem[]): string {
  return givenName(entry, ['source'], locator, problems) ?? typeOf(entry, 'source');
}

/**
 * The processors' ids, by position: a processor's `name:`, or else its type; an unnamed processor whose type is
 * already an id gets the first free `type#2`, `type#3`… Given names win over types and must be unique (a
 * duplicate is recorded as a problem at its `name:`). The id of a named processor, or of the first unnamed one of
 * its type, does not change when processors are added, removed or moved.
 *
 * @example
 * processorIds([{ type: 'rate' }, { type: 'filter', name: 'no_kube_system' }, { type: 'rate' }], locator, problems)
 * // ['rate', 'no_kube_system', 'rate#2']
 */
export function processorIds(
  entries: readonly unknown[],
  locator: YamlLocator,
  problems: Problem[],
): string[] {
  const given = entries.map((entry, index) => givenName(entry, ['processors', index], locator, problems));
  const taken = new Map<string, number>();
  given.forEach((name, index) => {
    if (name === undefined) return;
    const first = taken.get(name);
    if (first === undefined) taken.set(name, index);
    else {
      problems.push(
        locator.problemAtValue(
          ['processors', index, 'name'],
          `"${name}" is already the name of processors[${first}]; processor names must be unique`,
        ),
      );
    }
  });
  return entries.map((entry, index) => {
    const name = given[index];
    if (name !== undefined) return name;
    const type = typeOf(entry, 'processor');
    let id = type;
    for (let occurrence = 2; taken.has(id); occurrence++) id = `${type}#${occurrence}`;
    taken.set(id, index);
    return id;
  });
}
