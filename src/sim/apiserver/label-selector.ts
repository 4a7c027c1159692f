type Requirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'exists' | 'absent'; readonly key: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] };

/**
 * Compiles a Kubernetes label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`, joined
 * by commas) into a predicate over a label map.
 *
 * @example
 * labelSelector('role=worker,!gpu')({ role: 'worker' }); // true
 */
export function labelSelector(
  text: string | null | undefined,
): (labels: Readonly<Record<string, string>>) => boolean {
  if (text === null || text === undefined || text.trim() === '') return () => true;
  const requirements = splitTop(text).map(parseRequirement);
  return (labels) => requirements.every((r) => matches(r, labels));
}

function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function parseRequirement(part: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set?.[1] !== undefined && set[3] !== undefined) {
    return {
      op: set[2] === 'in' ? 'in' : 'notin',
      key: set[1],
      values: set[3].split(',').map((v) => v.trim()),
    };
  }
  const ne = part.indexOf('!=');
  if (ne > 0) return { op: 'ne', key: part.slice(0, ne).trim(), value: part.slice(ne + 2).trim() };
  const eq = part.indexOf('=');
  if (eq > 0) {
    const value = part.slice(part[eq + 1] === '=' ? eq + 2 : eq + 1).trim();
    return { op: 'eq', key: part.slice(0, eq).trim(), value };
  }
  if (part.startsWith('!')) return { op: 'absent', key: part.slice(1).trim() };
  return { op: 'exists', key: part };
}

function matches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[r.key];
  switch (r.op) {
    case 'eq':
      return value === r.value;
    case 'ne':
      return value !== r.value;
    case 'exists':
      return value !== undefined;
    case 'absent':
      return value === undefined;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
  }
}
