import { isAlias, isMap, isScalar, isSeq, visit, type Alias, type Document, type Node } from 'yaml';
import { substituteEnv, type Env } from './env.js';
import { MAX_ALIAS_NODES } from './limits.js';
import { keyText, type YamlLocator } from './positions.js';
import type { PathSegment, Problem } from './problems.js';
import { pathKey } from './unknown-keys.js';

/**
 * The node each alias stands for: the last node anchored with its name before it, as YAML defines it. Found in
 * one walk of the document, where `Alias.resolve` walks the whole document again for every alias.
 */
function aliasTargets(doc: Document): Map<Alias, Node> {
  const targets = new Map<Alias, Node>();
  const anchored = new Map<string, Node>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchored.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (node.anchor !== undefined) {
        anchored.set(node.anchor, node);
      }
    },
  });
  return targets;
}

/** The outermost alias being expanded and where it stands. */
interface Via {
  readonly alias: Alias;
  readonly path: PathSegment[];
}

/**
 * Converts a parsed YAML document to plain data, substituting `${env:…}` inside string scalars as it goes.
 * Substituting after parsing (rather than in the text) keeps every position exact and keeps a variable's value
 * from ever being read as YAML syntax.
 *
 * Aliases are expanded here, not by the `yaml` library, so its own limit does not apply: aliases may expand to
 * at most MAX_ALIAS_NODES nodes in all, and an alias inside the value it names (`a: &a [*a]`) is a problem at
 * that alias, rather than an endless expansion. Such an alias becomes null, and its path (as `pathKey` writes
 * it) is added to `unusable`, so that validation need not also say that null is the wrong type there.
 *
 * @example
 * const data = yamlToData(doc, locator, { TOKEN: 'abc' }, problems);
 */
export function yamlToData(
  doc: Document,
  locator: YamlLocator,
  env: Env,
  problems: Problem[],
  unusable = new Set<string>(),
): unknown {
  const targets = aliasTargets(doc);
  // The anchored nodes being converted, outermost first: an alias to one of them is inside its own value.
  const expanding = new Set<Node>();
  let aliasNodes = 0;
  let overBudget = false;

  const refuse = (path: PathSegment[], problem?: Problem): null => {
    if (problem !== undefined) problems.push(problem);
    unusable.add(pathKey(path));
    return null;
  };

  const expandAlias = (alias: Alias, path: PathSegment[], via: Via | undefined): unknown => {
    if (overBudget) return refuse(path);
    const at = { ...locator.position(alias), path };
    const target = targets.get(alias);
    if (target === undefined) {
      return refuse(path, {
        ...at,
        message: `alias *${alias.source} has no anchor &${alias.source} before it`,
      });
    }
    if (expanding.has(target)) {
      const anchor = locator.position(target);
      return refuse(path, {
        ...at,
        message:
          `alias *${alias.source} is inside the value it names (&${alias.source} at ` +
          `${anchor.line}:${anchor.col}), so it would never end`,
      });
    }
    return convert(target, path, via ?? { alias, path });
  };

  /** `via` is the outermost alias being expanded, if any: every node under it counts against the budget. */
  const convert = (value: unknown, path: PathSegment[], via: Via | undefined): unknown => {
    if (isAlias(value)) return expandAlias(value, path, via);
    if (via !== undefined && ++aliasNodes > MAX_ALIAS_NODES) {
      if (overBudget) return refuse(path);
      overBudget = true;
      unusable.add(pathKey(via.path));
      return refuse(path, {
        ...locator.position(via.alias),
        path: via.path,
        message:
          `alias *${via.alias.source} expands past the limit of ${MAX_ALIAS_NODES.toLocaleString('en-US')} ` +
          'values that aliases may add to a file (aliases inside it count too)',
      });
    }
    if ((isMap(value) || isSeq(value)) && value.anchor !== undefined) {
      expanding.add(value);
      try {
        return convertNode(value, path, via);
      } finally {
        expanding.delete(value);
      }
    }
    return convertNode(value, path, via);
  };

  const convertNode = (value: unknown, path: PathSegment[], via: Via | undefined): unknown => {
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
        entries.push([key, convert(pair.value, [...path, key], via)]);
      }
      // fromEntries defines own properties, so a key such as `__proto__` stays an ordinary (unknown) key.
      return Object.fromEntries(entries);
    }
    if (isSeq(value)) return value.items.map((item, index) => convert(item, [...path, index], via));
    if (isScalar(value)) {
      if (typeof value.value !== 'string') return value.value;
      const result = substituteEnv(value.value, env);
      if (result.ok) return result.value;
      problems.push({ ...locator.position(value), path, message: result.message });
      return value.value;
    }
    return value ?? null;
  };
  return convert(doc.contents, [], undefined);
}
