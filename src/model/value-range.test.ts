import { describe, expect, it } from 'vitest';
import { metricByName } from './catalogue.js';
import { CUSTOM_METRIC_KIND, catalogued, fitsMetric, INT_LIMIT, rangeOf } from './value-range.js';

const UINT64_MAX = JSON.parse('18446744073709551615') as number;

describe('fitsMetric', () => {
  const gaugeInt = catalogued('filesystem/limit');
  const counterInt = catalogued('cpu/usage');
  const gaugeFloat = catalogued('cpu/node_utilization');

  it.each([
    [0, true],
    [2 ** 53 + 2, true],
    [INT_LIMIT - 1024, true],
    [INT_LIMIT, false],
    [UINT64_MAX, false],
    [1.2e32, false],
    [-1, false],
    [NaN, false],
    [Infinity, false],
    [-Infinity, false],
  ])('an int metric holds %d: %s', (value, fits) => {
    expect(fitsMetric(gaugeInt, value)).toBe(fits);
    expect(fitsMetric(counterInt, value)).toBe(fits);
  });

  it('a float gauge holds any finite number, a float counter none below zero', () => {
    expect(fitsMetric(gaugeFloat, -0.5)).toBe(true);
    expect(fitsMetric(gaugeFloat, 1.2e32)).toBe(true);
    expect(fitsMetric(gaugeFloat, NaN)).toBe(false);
    expect(fitsMetric(gaugeFloat, Infinity)).toBe(false);
    expect(fitsMetric({ valueType: 'float', kind: 'cumulative' }, -0.5)).toBe(false);
    expect(fitsMetric({ valueType: 'float', kind: 'cumulative' }, Infinity)).toBe(false);
    expect(fitsMetric(CUSTOM_METRIC_KIND, -3)).toBe(true);
  });

  it('names the range in words, and knows every int metric of the catalogue as non-negative', () => {
    expect(rangeOf(counterInt)).toBe('an integer in [0, 2^63)');
    expect(rangeOf(CUSTOM_METRIC_KIND)).toBe('a finite number');
    expect(metricByName('memory/usage')?.valueType).toBe('int');
    expect(() => catalogued('cpu/usagee')).toThrow('cpu/usagee is not in the catalogue');
  });
});
