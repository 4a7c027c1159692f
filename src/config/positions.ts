import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PathSegment, Problem } from './problems.js';

/** Where a key path lands in the YAML document. */
interface Found {
  /** The node at the path, or the deepest ancestor that exists when the path does not. */
  readonly node: Node | undefined;
  /** The key node of the last segment when it is a mapping key that exists. */
  readonly keyNode: Node | undefined;
  readonly exists: boolean;
}

/** The text of a scalar mapping key, or undefined for complex keys (which the config never uses). */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value: unknown = key.value;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? `${value}` : undefined;
}

/**
 * Maps key paths of the parsed config back to 1-based line:col positions in the original text, so that every
 * problem points where the user has to look.
 *
 * @example
 * const locator = new YamlLocator(doc, lineCounter);
 * locator.problemAtValue(['sinks', 'lake', 'topic'], 'expected string, got number 3');
 */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** 1-based position of a node's first character (line 1, col 1 for a missing node: the top of the file). */
  position(node: Node | undefined): { line: number; col: number } {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lineCounter.linePos(offset);
    // LineCounter reports line 0 when the text has no newline at all.
    return { line: Math.max(line, 1), col: Math.max(col, 1) };
  }

  /** A problem about a value: at the value, or at the parent mapping when the key is missing. */
  problemAtValue(path: readonly PathSegment[], message: string): Problem {
    const found = this.find(path);
    return { ...this.position(found.node ?? found.keyNode), path, message };
  }

  /** A problem about a key itself (unknown key, invalid name): at the key. */
  problemAtKey(path: readonly PathSegment[], message: string): Problem {
    const found = this.find(path);
    return { ...this.position(found.keyNode ?? found.node), path, message };
  }

  /** Whether the path exists in the document (a missing key is reported at its parent). */
  exists(path: readonly PathSegment[]): boolean {
    return this.find(path).exists;
  }

  private find(path: readonly PathSegment[]): Found {
    let node = this.resolve(this.doc.contents);
    let keyNode: Node | undefined;
    for (const segment of path) {
      keyNode = undefined;
      let next: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((item) => keyText(item.key) === String(segment));
        if (pair === undefined) return { node, keyNode: undefined, exists: false };
        keyNode = pair.key as Node;
        next = this.resolve(pair.value);
        // `key:` with nothing after it has no value node; the key is the best place to point.
        if (next === undefined) return { node: undefined, keyNode, exists: true };
      } else if (isSeq(node) && typeof segment === 'number') {
        next = this.resolve(node.items[segment]);
        if (next === undefined) return { node, keyNode: undefined, exists: false };
      } else {
        return { node, keyNode: undefined, exists: false };
      }
      node = next;
    }
    return { node, keyNode, exists: true };
  }

  private resolve(value: unknown): Node | undefined {
    if (isAlias(value)) return value.resolve(this.doc) ?? value;
    return value === null || value === undefined ? undefined : (value as Node);
  }
}
