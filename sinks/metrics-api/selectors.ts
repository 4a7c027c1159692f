/**
 * Kubernetes label and field selectors as the API server parses them (apimachinery `labels.Parse`,
 * `fields.ParseSelector`), for the metrics API's `labelSelector` and `fieldSelector` parameters. Parsed once per
 * request; matching is a loop over a few requirements.
 */

/** A selector the client wrote wrong: the API server answers 400 BadRequest with this message. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

type Operator = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

interface Requirement {
  readonly key: string;
  readonly op: Operator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** True for the empty selector, which matches everything. */
  readonly empty: boolean;
}

const SPECIAL = new Set(['!', '=', '(', ')', ',', '<', '>']);
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
    } else if (ch === '=' && text[i + 1] === '=') {
      tokens.push('==');
      i += 2;
    } else if (ch === '!' && text[i + 1] === '=') {
      tokens.push('!=');
      i += 2;
    } else if (SPECIAL.has(ch)) {
      tokens.push(ch);
      i++;
    } else {
      let j = i;
      while (j < text.length && !SPECIAL.has(text[j] as string) && !/\s/.test(text[j] as string)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function isIdentifier(token: string | undefined): token is string {
  return token !== undefined && !SPECIAL.has(token) && token !== '==' && token !== '!=';
}

function checkKey(key: string): void {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const badPrefix = prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix));
  if (badPrefix || name.length > 63 || !NAME.test(name)) {
    throw new SelectorError(
      `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

function checkValue(value: string): void {
  if (value !== '' && (value.length > 63 || !NAME.test(value))) {
    throw new SelectorError(
      `invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

/**
 * Parses a label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by
 * commas (every one must match).
 *
 * @example
 * parseLabelSelector('app in (web,api),!canary').matches({ app: 'web' }) // true
 */
export function parseLabelSelector(text: string): LabelSelector {
  const tokens = tokenize(text);
  const requirements: Requirement[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new SelectorError(`unable to parse requirement: ${what} in label selector "${text}"`);
  };
  while (i < tokens.length) {
    let token = tokens[i];
    if (token === '!') {
      const key = tokens[i + 1];
      if (!isIdentifier(key)) fail("expected a key after '!'");
      checkKey(key as string);
      requirements.push({ key: key as string, op: '!', values: [] });
      i += 2;
    } else if (isIdentifier(token)) {
      const key = token;
      checkKey(key);
      const op = tokens[i + 1];
      if (op === undefined || op === ',') {
        requirements.push({ key, op: 'exists', values: [] });
        i += 1;
      } else if (op === '=' || op === '==' || op === '!=') {
        let value = tokens[i + 2];
        // `key=` selects the empty value.
        if (value === undefined || value === ',') {
          value = '';
          i += 2;
        } else {
          if (!isIdentifier(value)) fail(`expected a value after '${op}'`);
          i += 3;
        }
        checkValue(value);
        requirements.push({ key, op: op === '!=' ? 'notin' : 'in', values: [value] });
      } else if (op === 'in' || op === 'notin') {
        if (tokens[i + 2] !== '(') fail(`expected '(' after '${op}'`);
        const values: string[] = [];
        i += 3;
        for (;;) {
          token = tokens[i];
          if (token === ')') {
            i++;
            break;
          }
          if (isIdentifier(token)) {
            checkValue(token);
            values.push(token);
            i++;
            token = tokens[i];
            if (token === ',') i++;
            else if (token !== ')') fail("expected ',' or ')'");
          } else if (token === ',') {
            // An empty value inside the list, as in `a in (,x)`.
            values.push('');
            i++;
          } else {
            fail("expected a value or ')'");
          }
        }
        if (values.length === 0) fail(`for '${op}', set must have at least one value`);
        requirements.push({ key, op, values });
      } else if (op === '>' || op === '<') {
        const value = tokens[i + 2];
        if (!isIdentifier(value) || !/^-?\d+$/.test(value)) fail(`for '${op}', the value must be an integer`);
        requirements.push({ key, op: op === '>' ? 'gt' : 'lt', values: [value as string] });
        i += 3;
      } else {
        fail(`unexpected "${op}"`);
      }
    } else {
      fail(`unexpected "${token}"`);
    }
    if (i < tokens.length) {
      if (tokens[i] !== ',') fail(`expected ',' before "${tokens[i]}"`);
      i++;
      if (i >= tokens.length) fail('expected a requirement after ","');
    }
  }
  return {
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchesRequirement(r, labels)),
  };
}

function matchesRequirement(r: Requirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  const value = labels !== undefined && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  switch (r.op) {
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!':
      return value === undefined;
    case 'gt':
    case 'lt': {
      if (value === undefined || !/^-?\d+$/.test(value)) return false;
      const have = Number(value);
      const want = Number(r.values[0]);
      return r.op === 'gt' ? have > want : have < want;
    }
  }
}

/** The fields the metrics API lets a client select on (apimachinery `DefaultMetaV1FieldSelectorConversion`). */
export interface SelectableFields {
  readonly 'metadata.name': string;
  /** Nodes have no namespace: '' (`generic.AddObjectMetaFieldsSet` without the namespace field). */
  readonly 'metadata.namespace': string;
}

export interface FieldSelector {
  matches(fields: SelectableFields): boolean;
  /** The name a `metadata.name=` term pins, for a lookup instead of a scan. */
  readonly name?: string;
  /** The namespace a `metadata.namespace=` term pins. */
  readonly namespace?: string;
}

interface FieldTerm {
  readonly field: keyof SelectableFields;
  readonly equal: boolean;
  readonly value: string;
}

/** Splits on unescaped `sep`, keeping escapes (fields.ParseSelector splits terms on `,`). */
function splitEscaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[i + 1] as string);
      i++;
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string, selector: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '\\' || next === ',' || next === '=') {
      out += next;
      i++;
    } else {
      throw new SelectorError(`invalid field selector: invalid escape sequence in "${selector}"`);
    }
  }
  return out;
}

/**
 * Parses a field selector: terms `field=value`, `field==value` or `field!=value` joined by commas, on
 * `metadata.name` and `metadata.namespace` only; any other field is the API server's 400
 * `field label not supported`.
 *
 * @example
 * parseFieldSelector('metadata.namespace!=kube-system').matches({ 'metadata.name': 'a', 'metadata.namespace': 'x' })
 */
export function parseFieldSelector(text: string): FieldSelector {
  const terms: FieldTerm[] = [];
  if (text.trim() !== '') {
    for (const part of splitEscaped(text, ',')) {
      let at = -1;
      let opLength = 0;
      let equal = true;
      for (let i = 0; i < part.length; i++) {
        if (part[i] === '\\') {
          i++;
          continue;
        }
        if (part[i] === '!' && part[i + 1] === '=') [at, opLength, equal] = [i, 2, false];
        else if (part[i] === '=' && part[i + 1] === '=') [at, opLength] = [i, 2];
        else if (part[i] === '=') [at, opLength] = [i, 1];
        if (at >= 0) break;
      }
      if (at < 0)
        throw new SelectorError(`invalid field selector: "${part}" is not a term of the form field=value`);
      const field = unescape(part.slice(0, at), text).trim();
      const value = unescape(part.slice(at + opLength), text);
      if (field !== 'metadata.name' && field !== 'metadata.namespace') {
        throw new SelectorError(`field label not supported: ${field}`);
      }
      terms.push({ field, equal, value });
    }
  }
  const pinned = (field: keyof SelectableFields) => terms.find((t) => t.field === field && t.equal)?.value;
  const name = pinned('metadata.name');
  const namespace = pinned('metadata.namespace');
  return {
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
    matches: (fields) => terms.every((t) => (fields[t.field] === t.value) === t.equal),
  };
}
