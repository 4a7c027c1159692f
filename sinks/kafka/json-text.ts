/**
 * JSON text pieces for the encoders, written by hand because serialization runs per metric value: a scan of
 * the characters is cheaper than JSON.stringify on the common case (plain ASCII names and labels).
 */

/**
 * A string as a JSON string literal.
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
 * A string as Go's encoding/json writes it (what Heapster's consumers saw): like JSON, plus `<`, `>`, `&`,
 * U+2028 and U+2029 as \u escapes, and \b, \f as \u0008, \u000c.
 *
 * @example
 * goJsonString('a&b') // '"a\\u0026b"'
 */
export function goJsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x26 || c === 0x3c || c === 0x3e || c > 0x7e) {
      return goEscape(text);
    }
  }
  return '"' + text + '"';
}

function goEscape(text: string): string {
  const json = JSON.stringify(text);
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const ch = json[i] as string;
    if (ch === '\\' && i + 1 < json.length) {
      const next = json[i + 1] as string;
      i++;
      if (next === 'b') out += '\\u0008';
      else if (next === 'f') out += '\\u000c';
      else out += '\\' + next;
      continue;
    }
    if (ch === '<') out += '\\u003c';
    else if (ch === '>') out += '\\u003e';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '\u2028') out += '\\u2028';
    else if (ch === '\u2029') out += '\\u2029';
    else out += ch;
  }
  return out;
}

/**
 * A number as JSON; integers stay integers (2.0 is `2`, as in Go). NaN and ±Infinity have no JSON form: `null`.
 *
 * @example
 * jsonNumber(498.9) // '498.9'
 */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * Go's time.RFC3339Nano in UTC for a time in ms since the epoch (fractions carry µs and ns): trailing zeros of
 * the fraction are dropped, and a whole second has none.
 *
 * @example
 * rfc3339Nano(Date.UTC(2018, 0, 1)) // '2018-01-01T00:00:00Z'
 */
export function rfc3339Nano(ms: number): string {
  const wholeMs = Math.floor(ms);
  const iso = new Date(wholeMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  let nanos = (wholeMs % 1000) * 1_000_000 + Math.round((ms - wholeMs) * 1_000_000);
  if (nanos <= 0 || nanos >= 1_000_000_000) return iso.slice(0, 19) + 'Z';
  let digits = 9;
  while (nanos % 10 === 0) {
    nanos /= 10;
    digits--;
  }
  return iso.slice(0, 19) + '.' + String(nanos).padStart(digits, '0') + 'Z';
}
