/**
 * JSON text pieces for the encoders, written by hand because serialization runs per metric value: a scan of
 * the characters is cheaper than JSON.stringify on the common case (plain ASCII names and labels).
 */

import { numberText } from './number-text.js';

/**
 * A string as a JSON string literal, the same text JSON.stringify gives.
 *
 * @example
 * jsonString('cpu/usage') // '"cpu/usage"'
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(text);
  }
  return '"' + text + '"';
}

/**
 * A number as JSON; integers stay integers (2.0 is `2`, as in Go). NaN and ±Infinity have no JSON form: `null`,
 * as JSON.stringify writes them.
 *
 * @example
 * jsonNumber(498.9) // '498.9'
 */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? numberText(value) : 'null';
}
