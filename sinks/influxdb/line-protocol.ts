/**
 * InfluxDB line-protocol primitives: escaping and number formatting. These run per metric value, so each
 * escape first scans char codes and returns the input untouched when nothing needs escaping (the usual case),
 * and nothing here uses a regex or allocates a closure.
 */

import { numberText } from '../../src/model/number-text.js';

const COMMA = 44;
const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;
const RETURN = 13;
const TAB = 9;

// A raw line break would end the line early and corrupt every following point, and line protocol has no escape
// for it, so it is replaced by the two characters `\n` (as influxdb-client-js does); likewise `\r` and `\t`.
// Kubernetes names never contain one.
function escapeControl(code: number): string | undefined {
  if (code === NEWLINE) return '\\n';
  if (code === RETURN) return '\\r';
  if (code === TAB) return '\\t';
  return undefined;
}

function isControl(code: number): boolean {
  return code === NEWLINE || code === RETURN || code === TAB;
}

function needsTagEscape(code: number): boolean {
  return code === COMMA || code === SPACE || code === EQUALS || code === BACKSLASH || isControl(code);
}

function needsMeasurementEscape(code: number): boolean {
  return code === COMMA || code === SPACE || code === BACKSLASH || isControl(code);
}

/**
 * Whether the backslash at `i` must be doubled. The line-protocol spec reads `\\` as one backslash and a
 * backslash before any other character literally, so only a backslash that a reader would take for an escape is
 * doubled: one before another backslash, a comma, a space, an equals sign or a replaced control character
 * (which starts with a backslash), or at the very end (where it would escape the separator after it). Others stay
 * single, so `C:\x` is written as it is, and InfluxDB 1.x (which never unescapes `\\`) stores them unchanged.
 */
function backslashNeedsEscape(text: string, i: number): boolean {
  if (i + 1 >= text.length) return true;
  const next = text.charCodeAt(i + 1);
  return next === BACKSLASH || next === COMMA || next === SPACE || next === EQUALS || isControl(next);
}

/**
 * Escapes a measurement name: commas and spaces get a backslash, and so does a backslash a reader would take for
 * an escape (see backslashNeedsEscape); line breaks become `\n`.
 *
 * @example
 * escapeMeasurement('cpu/usage rate'); // 'cpu/usage\\ rate'
 */
export function escapeMeasurement(text: string): string {
  let i = 0;
  while (i < text.length && !needsMeasurementEscape(text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === COMMA || code === SPACE) out += '\\' + text[i];
    else if (code === BACKSLASH) out += backslashNeedsEscape(text, i) ? '\\\\' : '\\';
    else out += escapeControl(code) ?? text[i];
  }
  return out;
}

/**
 * Escapes a tag key, a tag value or a field key: commas, equals signs and spaces get a backslash, and so does a
 * backslash a reader would take for an escape (a trailing one, or one before those characters); line breaks
 * become `\n`.
 *
 * @example
 * escapeTag('app:web,tier:fe'); // 'app:web\\,tier:fe'
 * escapeTag('C:\\dir\\'); // 'C:\\dir\\\\' (the trailing backslash doubled)
 */
export function escapeTag(text: string): string {
  let i = 0;
  while (i < text.length && !needsTagEscape(text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === COMMA || code === SPACE || code === EQUALS) out += '\\' + text[i];
    else if (code === BACKSLASH) out += backslashNeedsEscape(text, i) ? '\\\\' : '\\';
    else out += escapeControl(code) ?? text[i];
  }
  return out;
}

/**
 * A string field value: quoted, with double quotes and backslashes escaped.
 *
 * @example
 * formatStringField('say "hi"'); // '"say \\"hi\\""'
 */
export function formatStringField(text: string): string {
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE || code === BACKSLASH) break;
    i++;
  }
  if (i === text.length) return '"' + text + '"';
  let out = '"' + text.slice(0, i);
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE || code === BACKSLASH) out += '\\';
    out += text[i];
  }
  return out + '"';
}

const INT64_LIMIT = 2 ** 63;

/**
 * An integer field value with its `i` suffix, truncating a fraction as Heapster's int64 values would have.
 * Values beyond int64 are written as floats, which InfluxDB accepts, rather than rejected.
 *
 * @example
 * formatInteger(319); // '319i'
 */
export function formatInteger(value: number): string {
  const whole = Number.isInteger(value) ? value : Math.trunc(value);
  if (whole >= INT64_LIMIT || whole < -INT64_LIMIT) return formatFloat(whole);
  return numberText(whole) + 'i';
}

/**
 * A float field value as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it (Heapster's format): the shortest
 * digits that round-trip, never in exponent notation, and no `.0` on integral values.
 *
 * @example
 * formatFloat(0.2857142857142857); // '0.2857142857142857'
 * formatFloat(1e-7); // '0.0000001'
 */
export function formatFloat(value: number): string {
  const text = numberText(value);
  // String() switches to exponent notation below 1e-6 and from 1e21 only: rare, so the fast path is the check.
  return text.indexOf('e') === -1 ? text : expandExponent(text);
}

function expandExponent(text: string): string {
  const e = text.indexOf('e');
  let mantissa = text.slice(0, e);
  const exponent = Number(text.slice(e + 1));
  let sign = '';
  if (mantissa.charCodeAt(0) === 45) {
    sign = '-';
    mantissa = mantissa.slice(1);
  }
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // Position of the decimal point within `digits` once the exponent is applied.
  const point = (dot === -1 ? mantissa.length : dot) + exponent;
  if (point <= 0) return sign + '0.' + '0'.repeat(-point) + digits;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return sign + digits.slice(0, point) + '.' + digits.slice(point);
}

/** UTF-8 byte length of a string, without encoding it: ASCII-only strings (the usual case) cost one scan. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

export type Precision = 'ns' | 'us' | 'ms' | 's';

/**
 * A timestamp in ms since the epoch written in `precision` units, as a string: nanoseconds exceed 2^53, so
 * they are built by appending digits rather than by multiplying.
 *
 * @example
 * formatTimestamp(1795829090000, 'ns'); // '1795829090000000000'
 */
export function formatTimestamp(ms: number, precision: Precision): string {
  switch (precision) {
    case 'ns':
      return String(Math.round(ms * 1000)) + '000';
    case 'us':
      return String(Math.round(ms * 1000));
    case 'ms':
      return String(Math.floor(ms));
    case 's':
      return String(Math.floor(ms / 1000));
  }
}
