import type { z } from 'zod';
import type { YamlLocator } from './positions.js';
import type { PathSegment, Problem } from './problems.js';
import { closestMatch } from './suggest.js';
import { isPlainObject } from '../model/plain-object.js';

type AnySchema = z.core.$ZodType;
type Def = Readonly<Record<string, unknown>> & { readonly type: string };

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

function defOf(schema: AnySchema): Def {
  return schema._zod.def as unknown as Def;
}

/** Peels wrappers (optional, default, pipe, lazy…) to reach the schema that decides the shape of the input. */
export function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (let depth = 0; depth < 32; depth++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type)) current = def.innerType as AnySchema;
    else if (def.type === 'lazy') current = (def.getter as () => AnySchema)();
    else if (def.type === 'pipe') {
      const input = def.in as AnySchema;
      // z.preprocess puts a transform first; the shape is then described by the output side.
      current = defOf(input).type === 'transform' ? (def.out as AnySchema) : input;
    } else return current;
  }
  return current;
}

/**
 * For a union of objects, the member the user most plausibly meant: by discriminator, else by keys shared with
 * the data, then by keys that look like typos of its keys.
 */
function likeliestMember(def: Def, data: Record<string, unknown>): AnySchema | undefined {
  const options = def.options as readonly AnySchema[];
  const discriminator = def.discriminator as string | undefined;
  const keys = Object.keys(data);
  let best: AnySchema | undefined;
  let bestScore = -1;
  for (const option of options) {
    const inner = defOf(unwrap(option));
    if (inner.type !== 'object') return undefined;
    const shape = inner.shape as Record<string, AnySchema>;
    if (discriminator !== undefined) {
      const tag = shape[discriminator];
      // The tag's own values first: an optional tag (`type` that defaults to one member) includes undefined.
      const values = tag === undefined ? undefined : (tag._zod.values ?? unwrap(tag)._zod.values);
      if (values?.has(data[discriminator] as never) === true) return option;
      continue;
    }
    const allowed = Object.keys(shape);
    let score = 0;
    for (const key of keys) {
      if (Object.hasOwn(shape, key)) score += keys.length + 1;
      else if (closestMatch(key, allowed) !== undefined) score += 1;
    }
    if (score > bestScore) {
      best = option;
      bestScore = score;
    }
  }
  return best;
}

/** Reports one unknown key: where it is, what to say, and the allowed key it probably meant, if any. */
export type UnknownKeyReporter = (
  path: readonly PathSegment[],
  message: string,
  suggestion: string | undefined,
) => void;

/**
 * Walks data alongside its schema and reports every key the schema does not know, with a did-you-mean drawn
 * from the keys allowed at that level. Objects are treated as strict whether or not the component declared them
 * so (only an explicit catchall, as in `z.looseObject`, lets keys through). Returns the paths of the objects it
 * checked, so zod's own `unrecognized_keys` issues there can be dropped as duplicates.
 *
 * @example
 * const checked = reportUnknownKeys(data, schema, ['sinks', 'lake'], (path, message) => problems.push(…));
 */
export function reportUnknownKeys(
  data: unknown,
  schema: AnySchema,
  path: readonly PathSegment[],
  report: UnknownKeyReporter,
  checked: Set<string> = new Set(),
): Set<string> {
  const def = defOf(unwrap(schema));
  if (def.type === 'object' && isPlainObject(data)) {
    const shape = def.shape as Record<string, AnySchema>;
    const catchall = def.catchall as AnySchema | undefined;
    checked.add(pathKey(path));
    for (const [key, value] of Object.entries(data)) {
      const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (child !== undefined) reportUnknownKeys(value, child, [...path, key], report, checked);
      else if (catchall === undefined || defOf(catchall).type === 'never') {
        const suggestion = closestMatch(key, Object.keys(shape));
        const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
        report([...path, key], `unknown key${hint}`, suggestion);
      } else reportUnknownKeys(value, catchall, [...path, key], report, checked);
    }
  } else if (def.type === 'array' && Array.isArray(data)) {
    data.forEach((item, index) =>
      reportUnknownKeys(item, def.element as AnySchema, [...path, index], report, checked),
    );
  } else if (def.type === 'record' && isPlainObject(data)) {
    for (const [key, value] of Object.entries(data)) {
      reportUnknownKeys(value, def.valueType as AnySchema, [...path, key], report, checked);
    }
  } else if (def.type === 'union' && isPlainObject(data)) {
    const member = likeliestMember(def, data);
    if (member !== undefined) reportUnknownKeys(data, member, path, report, checked);
  }
  return checked;
}

/** A stable string for a path, to compare paths in sets. */
export function pathKey(path: readonly PathSegment[]): string {
  return JSON.stringify(path);
}

/**
 * A reporter that records unknown keys as problems at the key, and remembers the keys they probably meant, so
 * that a misspelt required key is reported once (as unknown, with the suggestion) rather than also as missing.
 *
 * @example
 * reportUnknownKeys(data, schema, [], unknownKeyReporter(locator, problems, meantKeys));
 */
export function unknownKeyReporter(
  locator: YamlLocator,
  problems: Problem[],
  meantKeys: Set<string>,
): UnknownKeyReporter {
  return (path, message, suggestion) => {
    problems.push(locator.problemAtKey(path, message));
    if (suggestion !== undefined) meantKeys.add(pathKey([...path.slice(0, -1), suggestion]));
  };
}
