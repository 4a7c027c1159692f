import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { substituteEnv, type Env } from './env.js';
import { keyText, type YamlLocator } from './positions.js';
import type { PathSegment, Problem } from './problems.js';

/**
 * Converts a parsed YAML document to plain data, substituting `${env:…}` inside string scalars as it goes.
 * Substituting after parsing (rather than in the text) keeps every position exact and keeps a variable's value
 * from ever being read as YAML syntax.
 *
 * @example
 * const data = yamlToData(doc, locator, { TOKEN: 'abc' }, problems);
 */
export function yamlToData(doc: Document, locator: YamlLocator, env: Env, problems: Problem[]): unknown {
  const convert = (value: unknown, path: PathSegment[]): unknown => {
    if (isAlias(value)) return convert(value.resolve(doc), path);
    if (isMap(value)) {
      const entries: [string, unknown][] = [];
      for (const pair of value.items) {
        const key = keyText(pair.key);
        if (key === undefined) {
          problems.push({
            ...locator.position(pair.key as never),
            path,
            message: 'keys must be plain strings',
          });
          continue;
        }
        entries.push([key, convert(pair.value, [...path, key])]);
      }
      // fromEntries defines own properties, so a key such as `__proto__` stays an ordinary (unknown) key.
      return Object.fromEntries(entries);
    }
    if (isSeq(value)) return value.items.map((item, index) => convert(item, [...path, index]));
    if (isScalar(value)) {
      if (typeof value.value !== 'string') return value.value;
      const result = substituteEnv(value.value, env);
      if (result.ok) return result.value;
      problems.push({ ...locator.position(value), path, message: result.message });
      return value.value;
    }
    return value ?? null;
  };
  return convert(doc.contents, []);
}
