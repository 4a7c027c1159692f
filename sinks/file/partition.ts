/**
 * Partition path templates: `dt={date}/hour={hour}/type={type}` → `dt=2026-11-28/hour=09/type=pod`.
 * Parsed once at startup; rendering is one concatenation per batch and set type, never per value.
 */

/** The placeholders a template may use. Times are UTC and come from the batch time (the cycle's tick). */
export const PARTITION_TOKENS = ['date', 'year', 'month', 'day', 'hour', 'minute', 'type'] as const;
export type PartitionToken = (typeof PARTITION_TOKENS)[number];

export const DEFAULT_PARTITION = 'dt={date}/hour={hour}/type={type}';

type Part = { readonly literal: string } | { readonly token: PartitionToken };

/** A parsed template. */
export interface PartitionTemplate {
  readonly source: string;
  /** Whether files hold one set type each (the template has `{type}`); else every type shares a file. */
  readonly hasType: boolean;
  /** The relative directory for rows of `type` in a batch stamped `timeMs`; '' for the base directory. */
  render(type: string, timeMs: number): string;
}

/**
 * Parses a template, or returns the reason it is not one.
 *
 * @example
 * const t = parsePartitionTemplate('dt={date}/type={type}');
 * if (typeof t !== 'string') t.render('pod', Date.UTC(2026, 10, 28, 9)); // 'dt=2026-11-28/type=pod'
 */
export function parsePartitionTemplate(source: string): PartitionTemplate | string {
  const trimmed = source.replace(/\/+$/, '');
  if (trimmed.startsWith('/') || trimmed.includes('\\')) {
    return `"${source}" must be a relative path with / separators (it is placed under \`path\`)`;
  }
  if (
    trimmed
      .split('/')
      .some((segment) => segment === '..' || segment === '.' || (segment === '' && trimmed !== ''))
  ) {
    return `"${source}" may not have empty, "." or ".." segments`;
  }
  const parts: Part[] = [];
  let rest = trimmed;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const close = rest.indexOf('}', open);
    if (close < 0) return `"${source}" has a "{" without a closing "}"`;
    const name = rest.slice(open + 1, close);
    if (!(PARTITION_TOKENS as readonly string[]).includes(name)) {
      return `"${source}" has an unknown placeholder {${name}}: use ${PARTITION_TOKENS.map((t) => `{${t}}`).join(', ')}`;
    }
    parts.push({ token: name as PartitionToken });
    rest = rest.slice(close + 1);
  }
  if (parts.some((p) => 'literal' in p && p.literal.includes('}')))
    return `"${source}" has a "}" without a "{"`;
  return {
    source,
    hasType: parts.some((p) => 'token' in p && p.token === 'type'),
    render: (type, timeMs) => render(parts, type, timeMs),
  };
}

function render(parts: readonly Part[], type: string, timeMs: number): string {
  const iso = new Date(timeMs).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  let out = '';
  for (const part of parts) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    switch (part.token) {
      case 'date':
        out += iso.slice(0, 10);
        break;
      case 'year':
        out += iso.slice(0, 4);
        break;
      case 'month':
        out += iso.slice(5, 7);
        break;
      case 'day':
        out += iso.slice(8, 10);
        break;
      case 'hour':
        out += iso.slice(11, 13);
        break;
      case 'minute':
        out += iso.slice(14, 16);
        break;
      case 'type':
        out += type;
        break;
    }
  }
  return out;
}
