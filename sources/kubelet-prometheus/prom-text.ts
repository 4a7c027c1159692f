/**
 * A pull parser for the Prometheus text exposition format (0.0.4), written for kubelet scrapes of a few MB:
 * one pass over the text with charCodeAt, no regex and no split per line, no object per sample. The reader
 * is advanced with `next()`, after which `name`, `value`, `timestamp` and the labels describe the sample.
 *
 * Handles: `# HELP` and `# TYPE` lines (types are kept), other comments, blank lines, CRLF, label values
 * with `\\`, `\"` and `\n` escapes, a trailing comma in the label set, optional ms timestamps, and the
 * values `NaN`, `+Inf`, `-Inf` (any case, as Go's ParseFloat). A malformed line is a DecodeError naming its
 * line number.
 */
import { DecodeError } from '../../src/component/errors.js';

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * Reads samples one at a time.
 *
 * @example
 * const reader = new PrometheusTextReader('up{job="a"} 1 1700000000000\n');
 * while (reader.next()) console.log(reader.name, reader.label('job'), reader.value, reader.timestamp);
 */
export class PrometheusTextReader {
  /** The metric name of the current sample. */
  name = '';
  value = 0;
  /** Milliseconds since the epoch, or undefined when the sample has none. */
  timestamp: number | undefined = undefined;
  /** Labels of the current sample: the first `labelCount` entries of the two arrays. */
  labelCount = 0;
  readonly labelNames: string[] = [];
  readonly labelValues: string[] = [];
  /** Family name → `counter`, `gauge`, `histogram`, `summary` or `untyped`, from `# TYPE` lines seen so far. */
  readonly types = new Map<string, string>();

  private pos = 0;
  private lineNumber = 1;

  /** The line of the current sample, for messages. */
  get line(): number {
    return this.lineNumber;
  }

  constructor(
    private readonly text: string,
    private readonly what = 'metrics',
  ) {}

  /** The value of label `name` on the current sample, or undefined when it has no such label. */
  label(name: string): string | undefined {
    for (let i = 0; i < this.labelCount; i++) {
      if (this.labelNames[i] === name) return this.labelValues[i];
    }
    return undefined;
  }

  /** Advances to the next sample; false at the end of the text. */
  next(): boolean {
    const text = this.text;
    const length = text.length;
    while (this.pos < length) {
      this.skipBlanks();
      if (this.pos >= length) return false;
      const c = text.charCodeAt(this.pos);
      if (c === LF) {
        this.pos++;
        this.lineNumber++;
        continue;
      }
      if (c === HASH) {
        this.readComment();
        continue;
      }
      this.readSample();
      return true;
    }
    return false;
  }

  private readSample(): void {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && isNameChar(text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail('expected a metric name');
    this.name = text.slice(start, this.pos);
    this.labelCount = 0;
    this.skipBlanks();
    if (text.charCodeAt(this.pos) === OPEN_BRACE) {
      this.pos++;
      this.readLabels();
      this.skipBlanks();
    }
    const token = this.readToken('a value');
    this.value = parseValue(token);
    if (Number.isNaN(this.value) && token.toLowerCase() !== 'nan') {
      this.fail(`expected a number as the value, got "${token}"`);
    }
    this.skipBlanks();
    this.timestamp = undefined;
    if (!this.atLineEnd()) {
      const stamp = this.readToken('a timestamp');
      const ms = Number(stamp);
      if (!Number.isInteger(ms)) this.fail(`expected a timestamp in ms, got "${stamp}"`);
      this.timestamp = ms;
      this.skipBlanks();
      if (!this.atLineEnd()) this.fail('unexpected text after the timestamp');
    }
  }

  private readLabels(): void {
    const text = this.text;
    for (;;) {
      this.skipBlanks();
      let c = text.charCodeAt(this.pos);
      if (c === CLOSE_BRACE) {
        this.pos++;
        return;
      }
      const start = this.pos;
      while (this.pos < text.length && isNameChar(text.charCodeAt(this.pos))) this.pos++;
      if (this.pos === start) this.fail('expected a label name or "}"');
      const name = text.slice(start, this.pos);
      this.skipBlanks();
      if (text.charCodeAt(this.pos) !== EQUALS) this.fail(`expected "=" after label ${name}`);
      this.pos++;
      this.skipBlanks();
      if (text.charCodeAt(this.pos) !== QUOTE) this.fail(`expected a quoted value for label ${name}`);
      this.pos++;
      const value = this.readQuoted(name);
      this.labelNames[this.labelCount] = name;
      this.labelValues[this.labelCount] = value;
      this.labelCount++;
      this.skipBlanks();
      c = text.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
      } else if (c !== CLOSE_BRACE) {
        this.fail(`expected "," or "}" after label ${name}`);
      }
    }
  }

  /** The label value up to the closing quote; unescapes only when the value has a backslash. */
  private readQuoted(label: string): string {
    const text = this.text;
    const start = this.pos;
    for (; this.pos < text.length; this.pos++) {
      const c = text.charCodeAt(this.pos);
      if (c === QUOTE) return text.slice(start, this.pos++);
      if (c === BACKSLASH) break;
      if (c === LF) this.fail(`unterminated value of label ${label}`);
    }
    let value = text.slice(start, this.pos);
    for (; this.pos < text.length; this.pos++) {
      const c = text.charCodeAt(this.pos);
      if (c === QUOTE) {
        this.pos++;
        return value;
      }
      if (c === LF) break;
      if (c !== BACKSLASH) {
        value += text[this.pos];
        continue;
      }
      const escaped = text.charCodeAt(++this.pos);
      if (escaped === 110 /* n */) value += '\n';
      else if (escaped === BACKSLASH || escaped === QUOTE) value += text[this.pos];
      else value += '\\' + (text[this.pos] ?? '');
    }
    this.fail(`unterminated value of label ${label}`);
  }

  /** `# TYPE name type` is kept; `# HELP` and any other comment are skipped. */
  private readComment(): void {
    const text = this.text;
    this.pos++;
    this.skipBlanks();
    if (text.startsWith('TYPE', this.pos)) {
      this.pos += 4;
      this.skipBlanks();
      const nameStart = this.pos;
      while (this.pos < text.length && isNameChar(text.charCodeAt(this.pos))) this.pos++;
      const name = text.slice(nameStart, this.pos);
      this.skipBlanks();
      const typeStart = this.pos;
      while (this.pos < text.length && !isSpace(text.charCodeAt(this.pos))) this.pos++;
      if (name !== '' && this.pos > typeStart) this.types.set(name, text.slice(typeStart, this.pos));
    }
    const end = text.indexOf('\n', this.pos);
    this.pos = end < 0 ? text.length : end;
  }

  private readToken(what: string): string {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && !isSpace(text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return text.slice(start, this.pos);
  }

  private skipBlanks(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c !== SPACE && c !== TAB && c !== CR) return;
      this.pos++;
    }
  }

  private atLineEnd(): boolean {
    return this.pos >= this.text.length || this.text.charCodeAt(this.pos) === LF;
  }

  private fail(message: string): never {
    throw new DecodeError(`${this.what} line ${this.lineNumber}: ${message}`);
  }
}

function isNameChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) /* a-z */ ||
    (c >= 65 && c <= 90) /* A-Z */ ||
    (c >= 48 && c <= 57) /* 0-9 */ ||
    c === 95 /* _ */ ||
    c === 58 /* : */
  );
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

/**
 * A sample value as Go's ParseFloat reads it: decimal or exponent notation, `NaN`, `Inf` or `Infinity` with
 * an optional sign, in any case. Returns NaN for anything else too; the caller tells the two apart.
 */
export function parseValue(token: string): number {
  const n = Number(token);
  if (!Number.isNaN(n))
    return token.charCodeAt(0) === 48 && token.length > 1 && isHexOrBinary(token) ? NaN : n;
  const lower = token.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return NaN;
}

/** Number() also reads 0x10, 0b1 and 0o7, which Prometheus does not. */
function isHexOrBinary(token: string): boolean {
  const c = token.charCodeAt(1) | 0x20;
  return c === 120 /* x */ || c === 98 /* b */ || c === 111; /* o */
}
