import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonBytesReader, JsonSyntaxError, KeyTable } from './json-bytes.js';

/** Fixed seed, as the fuzz tests under `npm test`: CI passes or fails on the code, not on the draw. */
const PARAMETERS = { seed: 20261205, numRuns: 300 };

function read(text: string): unknown {
  const reader = new JsonBytesReader(Buffer.from(text, 'utf8'));
  const value = reader.readValue();
  reader.end();
  return value;
}

function skip(text: string): void {
  const reader = new JsonBytesReader(Buffer.from(text, 'utf8'));
  reader.skipValue();
  reader.end();
}

/** Whether JSON.parse accepts `text`. */
function valid(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('JsonBytesReader numbers', () => {
  it.each([
    '0',
    '-0',
    '7',
    '-12',
    '123456789012345',
    '1234567890123456',
    '9007199254740993',
    '18446744073709551615',
    '18446744073709551616',
    '99999999999999999999999',
    '0.1',
    '-0.0',
    '2.5e-3',
    '1E5',
    '1e+308',
    '1e999',
    '-1e999',
    '4.9e-324',
    '1.7976931348623157e308',
    '0.30000000000000004',
    '123.456e-7',
  ])('%s reads as JSON.parse reads it', (text) => {
    expect(Object.is(read(text), JSON.parse(text))).toBe(true);
  });

  it('reads any double written by JSON.stringify back exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = JSON.stringify(value);
        expect(Object.is(read(text), JSON.parse(text))).toBe(true);
      }),
      PARAMETERS,
    );
  });

  it('reads any digit run, fraction and exponent as JSON.parse does', () => {
    const digits = fc.stringMatching(/^(0|[1-9][0-9]{0,25})$/);
    const token = fc
      .tuple(
        fc.boolean(),
        digits,
        fc.option(fc.stringMatching(/^[0-9]{1,20}$/)),
        fc.option(fc.integer({ min: -400, max: 400 })),
      )
      .map(
        ([minus, int, frac, exp]) =>
          `${minus ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`,
      );
    fc.assert(
      fc.property(token, (text) => {
        expect(Object.is(read(text), JSON.parse(text)), text).toBe(true);
      }),
      PARAMETERS,
    );
  });
});

describe('JsonBytesReader strings and structures', () => {
  it.each([
    '"plain"',
    '""',
    '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"',
    '"\\u00e9\\u0041\\uD83D\\uDE00"',
    '"\\ud800 lone"',
    '"héllo wörld ✓ 😀"',
    '{"__proto__": {"x": 1}, "a": [1, {"b": null}], "a": true}',
    ' [ 1 , 2 ,\n\t3 ] ',
    '{"":""}',
  ])('%s reads as JSON.parse reads it', (text) => {
    expect(read(text)).toStrictEqual(JSON.parse(text));
  });

  it('replaces invalid UTF-8 as Buffer.toString does', () => {
    const bytes = Buffer.concat([
      Buffer.from('["a'),
      Buffer.from([0xe2, 0x28, 0xa1, 0xff]),
      Buffer.from('b"]'),
    ]);
    const reader = new JsonBytesReader(bytes);
    expect(reader.readValue()).toStrictEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('reads any JSON value as JSON.parse does, and skips it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(read(text)).toStrictEqual(JSON.parse(text));
        skip(text);
      }),
      PARAMETERS,
    );
  });

  it('gives the previous string again from readMemoString while the bytes repeat', () => {
    const reader = new JsonBytesReader(Buffer.from('"2020-01-01T00:00:00Z" "2020-01-01T00:00:00Z" "x"'));
    reader.next();
    const first = reader.readMemoString();
    reader.next();
    expect(reader.readMemoString()).toBe(first);
    reader.next();
    expect(reader.readMemoString()).toBe('x');
  });

  it('skips 100,000 levels of nesting without a stack overflow', () => {
    skip('['.repeat(50_000) + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + ']'.repeat(50_000));
  });
});

describe('JsonBytesReader rejects exactly what JSON.parse rejects', () => {
  it.each([
    '',
    ' ',
    '01',
    '-',
    '1.',
    '.5',
    '+1',
    '1e',
    '1e+',
    '0x10',
    'NaN',
    'Infinity',
    'tru',
    'nul',
    'True',
    '"unterminated',
    '"bad \\x escape"',
    '"bad \\u12G4"',
    '"tab\tinside"',
    '[1,]',
    '[1 2]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '{"a":1}}',
    '[1]x',
    '\ufeff{}',
  ])('%j', (text) => {
    expect(valid(text)).toBe(false);
    expect(() => read(text)).toThrow(JsonSyntaxError);
    expect(() => skip(text)).toThrow(JsonSyntaxError);
  });

  it('accepts a text iff JSON.parse does, for JSON with one byte changed, dropped or added', () => {
    const edit = fc.tuple(
      fc.jsonValue({ maxDepth: 3 }),
      fc.nat(),
      fc.constantFrom(...'{}[]",:0-.eE+tfnu\\ \x01xa9'.split('')),
      fc.constantFrom('set', 'drop', 'insert'),
    );
    fc.assert(
      fc.property(edit, ([value, at, byte, how]) => {
        const original = JSON.stringify(value);
        const i = original.length === 0 ? 0 : at % original.length;
        const text =
          how === 'set'
            ? original.slice(0, i) + byte + original.slice(i + 1)
            : how === 'drop'
              ? original.slice(0, i) + original.slice(i + 1)
              : original.slice(0, i) + byte + original.slice(i);
        if (valid(text)) {
          expect(read(text), text).toStrictEqual(JSON.parse(text));
          skip(text);
        } else {
          expect(() => read(text), text).toThrow(JsonSyntaxError);
          expect(() => skip(text), text).toThrow(JsonSyntaxError);
        }
      }),
      { ...PARAMETERS, numRuns: 2000 },
    );
  });
});

describe('KeyTable', () => {
  it('matches key bytes to their index, and nothing else', () => {
    const table = new KeyTable(['time', 'name', 'usageBytes', 'ephemeral-storage']);
    const bytes = Buffer.from('timenameusageBytesephemeral-storagetimx');
    expect(table.match(bytes, 0, 4)).toBe(0);
    expect(table.match(bytes, 4, 8)).toBe(1);
    expect(table.match(bytes, 8, 18)).toBe(2);
    expect(table.match(bytes, 18, 35)).toBe(3);
    expect(table.match(bytes, 35, 39)).toBe(-1);
    expect(table.match(bytes, 0, 3)).toBe(-1);
    expect(table.matchString('name')).toBe(1);
  });

  it('reads a key written with escapes as the key it spells', () => {
    const table = new KeyTable(['node']);
    const reader = new JsonBytesReader(Buffer.from('{"no\\u0064e": 1}'));
    reader.expect(0x7b);
    expect(reader.readKey(table)).toBe(0);
  });
});
