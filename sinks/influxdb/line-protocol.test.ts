import { describe, expect, it } from 'vitest';
import {
  escapeMeasurement,
  escapeTag,
  formatFloat,
  formatInteger,
  formatStringField,
  formatTimestamp,
  utf8Length,
} from './line-protocol.js';
import { parseLine } from '../../test/support/influx-lines.js';

describe('escaping', () => {
  it('returns the same string when nothing needs escaping', () => {
    const text = 'memory/working_set';
    expect(escapeMeasurement(text)).toBe(text);
    expect(escapeTag(text)).toBe(text);
  });

  it('escapes commas and spaces in measurements, but not equals signs', () => {
    expect(escapeMeasurement('a,b c=d')).toBe('a\\,b\\ c=d');
  });

  it('escapes commas, equals signs and spaces in tag keys and values', () => {
    expect(escapeTag('app:web,tier:fe')).toBe('app:web\\,tier:fe');
    expect(escapeTag('node-role.kubernetes.io/control-plane:,x')).toBe(
      'node-role.kubernetes.io/control-plane:\\,x',
    );
    expect(escapeTag('a=b c')).toBe('a\\=b\\ c');
  });

  it('never lets a line break through', () => {
    expect(escapeTag('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(escapeMeasurement('m\n')).toBe('m\\n');
  });

  it('doubles a trailing backslash, which would otherwise escape the separator after it', () => {
    // `a\` as a tag value: written `a\\`, so the comma or space after it still ends the value.
    expect(escapeTag('a\\')).toBe('a\\\\');
    expect(escapeTag('\\')).toBe('\\\\');
    expect(escapeMeasurement('m\\')).toBe('m\\\\');
  });

  it('doubles a backslash before a comma, space, equals sign or another backslash', () => {
    expect(escapeTag('a\\ b')).toBe('a\\\\\\ b');
    expect(escapeTag('a\\,b')).toBe('a\\\\\\,b');
    expect(escapeTag('a\\=b')).toBe('a\\\\\\=b');
    expect(escapeTag('a\\\\b')).toBe('a\\\\\\b');
    expect(escapeMeasurement('a\\ b')).toBe('a\\\\\\ b');
  });

  it('leaves any other backslash single, as the spec reads it literally', () => {
    expect(escapeTag('C:\\Windows\\x')).toBe('C:\\Windows\\x');
    expect(escapeMeasurement('a\\b')).toBe('a\\b');
  });

  it('replaces a line break after a backslash without letting the backslash escape it', () => {
    expect(escapeTag('a\\\n')).toBe('a\\\\\\n');
  });

  it('writes every measurement, tag and field key so that a spec reader gets it back', () => {
    // Every string up to 4 characters over the characters that matter, as measurement, tag key and value, and
    // field key of one line; read back with the spec's unescaping (test-lines.ts).
    const alphabet = ['a', '\\', ',', ' ', '=', '"'];
    let texts = [''];
    const all: string[] = [];
    for (let length = 1; length <= 4; length++) {
      texts = texts.flatMap((t) => alphabet.map((c) => t + c));
      all.push(...texts);
    }
    for (const text of all) {
      const line = `${escapeMeasurement(text)},${escapeTag(text)}=${escapeTag(text)} ${escapeTag(text)}=1i 1`;
      const parsed = parseLine(line);
      expect([text, parsed.measurement]).toEqual([text, text]);
      expect([text, parsed.tags]).toEqual([text, [[text, text]]]);
      expect([text, [...parsed.fields.keys()]]).toEqual([text, [text]]);
    }
  });

  it('quotes string fields, escaping quotes and backslashes', () => {
    expect(formatStringField('plain')).toBe('"plain"');
    expect(formatStringField('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(formatStringField('ends in \\')).toBe('"ends in \\\\"');
  });
});

describe('numbers', () => {
  it('writes integers with an i suffix, truncating fractions', () => {
    expect(formatInteger(319)).toBe('319i');
    expect(formatInteger(0)).toBe('0i');
    expect(formatInteger(-50)).toBe('-50i');
    expect(formatInteger(999.99)).toBe('999i');
    expect(formatInteger(1000174911162)).toBe('1000174911162i');
  });

  it('writes integers beyond int64 as floats rather than have the server refuse them', () => {
    expect(formatInteger(2 ** 64)).toBe('18446744073709552000');
  });

  it("writes floats as Go's FormatFloat(v, 'f', -1) does", () => {
    // Values and texts from Heapster's own output (heapster-golden-unit, heapster-golden/nri-1.34).
    expect(formatFloat(0.2857142857142857)).toBe('0.2857142857142857');
    expect(formatFloat(0.011111111111111112)).toBe('0.011111111111111112');
    expect(formatFloat(96636764160)).toBe('96636764160');
    expect(formatFloat(999.5)).toBe('999.5');
    expect(formatFloat(0)).toBe('0');
    // Where JavaScript switches to exponent notation, Go's 'f' format does not.
    expect(formatFloat(1e-7)).toBe('0.0000001');
    expect(formatFloat(1.5e-7)).toBe('0.00000015');
    expect(formatFloat(-2.5e-8)).toBe('-0.000000025');
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.2345e22)).toBe('12345000000000000000000');
  });
});

describe('timestamps', () => {
  it('writes the batch time in the declared precision', () => {
    expect(formatTimestamp(1795829090000, 'ns')).toBe('1795829090000000000');
    expect(formatTimestamp(1795829090123, 'us')).toBe('1795829090123000');
    expect(formatTimestamp(1795829090123, 'ms')).toBe('1795829090123');
    expect(formatTimestamp(1795829090999, 's')).toBe('1795829090');
    // Kubelet times keep µs as a fraction of a ms.
    expect(formatTimestamp(1795829090123.456, 'ns')).toBe('1795829090123456000');
  });
});

describe('utf8Length', () => {
  it('counts UTF-8 bytes as Buffer.byteLength does', () => {
    for (const text of ['ascii', 'zoné', '日本', 'emoji 🚀 x', '']) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    }
  });
});
