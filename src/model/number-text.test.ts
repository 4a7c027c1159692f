import { describe, expect, it } from 'vitest';
import { numberText } from './number-text.js';

describe('numberText', () => {
  it('is String() for integers of every length, with every count of leading zeros in the low 8 digits', () => {
    for (let digits = 1; digits <= 16; digits++) {
      const top = 10 ** (digits - 1);
      for (let zeros = 0; zeros <= 8; zeros++) {
        const low = zeros === 8 ? 0 : 7 * 10 ** (7 - zeros);
        for (const value of [top, top + low, 2 * top - 1, 9 * top + low + 3]) {
          for (const signed of [value, -value]) expect(numberText(signed)).toBe(String(signed));
        }
      }
    }
  });

  it('is String() around 2^31, 2^53 and beyond, and for fractions, -0, NaN and infinities', () => {
    const edges = [
      2 ** 31 - 1,
      2 ** 31,
      2 ** 31 + 1,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 63,
      2 ** 64,
      1e21,
    ];
    const others = [0, -0, 0.5, 4294967296.5, 1e-7, 1.5e300, Number.NaN, Infinity, -Infinity];
    for (const value of [...edges, ...edges.map((v) => -v), ...others]) {
      expect(numberText(value)).toBe(String(value));
    }
  });
});
