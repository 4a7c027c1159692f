import { describe, expect, it } from 'vitest';
import { labelSelector } from './label-selector.js';

describe('labelSelector', () => {
  const labels = { role: 'worker', zone: 'a', gpu: '' };
  it.each([
    ['', true],
    ['role=worker', true],
    ['role==worker', true],
    ['role!=worker', false],
    ['gpu', true],
    ['!gpu', false],
    ['!spot', true],
    ['zone in (a, b)', true],
    ['zone notin (a)', false],
    ['role=worker,zone in (b,c)', false],
  ])('%s → %s', (selector, expected) => {
    expect(labelSelector(selector)(labels)).toBe(expected);
  });
});
