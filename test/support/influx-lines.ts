/**
 * Test helpers: a line-protocol reader (honouring backslash escapes) so tests compare points, not strings,
 * where order or formatting may legitimately differ. Not used by the sink itself.
 */

export interface ParsedLine {
  readonly measurement: string;
  /** Unescaped tags, in line order. */
  readonly tags: readonly (readonly [string, string])[];
  /** Field key → raw value text (`12i`, `0.5`). */
  readonly fields: ReadonlyMap<string, string>;
  readonly timestamp: string;
}

/** Characters a backslash escapes; before any other character a backslash is literal (the line-protocol spec). */
const ESCAPABLE = new Set(['\\', ',', ' ', '=']);

/** Splits `text` at unescaped `separator`s, unescaping the parts as the line-protocol spec reads them. */
function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1] as string;
      current += ESCAPABLE.has(next) ? next : c + next;
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** Index of the first unescaped space. */
function unescapedSpace(text: string, from = 0): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ' ') return i;
  }
  return -1;
}

/** Reads one line of line protocol (numeric fields only, as the sink writes). */
export function parseLine(line: string): ParsedLine {
  const keyEnd = unescapedSpace(line);
  const fieldsEnd = unescapedSpace(line, keyEnd + 1);
  const [measurement = '', ...tagTexts] = splitRaw(line.slice(0, keyEnd));
  const tags = tagTexts.map((t) => {
    const [k = '', v = ''] = splitEscaped(t, '=');
    return [k, v] as const;
  });
  const fields = new Map<string, string>();
  for (const f of splitRaw(line.slice(keyEnd + 1, fieldsEnd))) {
    const [k = '', v = ''] = splitEscaped(f, '=');
    fields.set(k, v);
  }
  return {
    measurement: splitEscaped(measurement, '\u0000')[0] ?? '',
    tags,
    fields,
    timestamp: line.slice(fieldsEnd + 1),
  };
}

/** Splits at unescaped commas, keeping escapes (so the parts can be split again at `=`). */
function splitRaw(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The non-empty lines of a body or file. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** A point's identity for comparisons: measurement, field and sorted tags. */
export function pointKey(measurement: string, field: string, tags: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`);
  return `${measurement}|${field}|${sorted.join(',')}`;
}
