/**
 * The `heapster` format's strings, written by hand because serialization runs per metric value (the plain JSON
 * pieces are in src/model/json-text.ts).
 */

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
