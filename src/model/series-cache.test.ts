import { describe, expect, it } from 'vitest';
import { SeriesCache } from './series-cache.js';
import { sameLabels } from './labels.js';

describe('SeriesCache', () => {
  it('hits on the same labels object and on an equal fresh one, which it keeps for the next lookup', () => {
    const cache = new SeriesCache<string>();
    const labels = { pod_name: 'web', namespace_name: 'a' };
    cache.set('k', labels, 'text');
    expect(cache.get('k', labels)).toBe('text');
    const fresh = { pod_name: 'web', namespace_name: 'a' };
    expect(cache.get('k', fresh)).toBe('text');
    expect(cache.get('k', fresh)).toBe('text');
  });

  it('misses on other values, other names, another order, one label more or less, and another key', () => {
    const cache = new SeriesCache<string>();
    cache.set('k', { a: '1', b: '2' }, 'text');
    for (const labels of [
      { a: '1', b: '3' },
      { a: '1', c: '2' },
      { b: '2', a: '1' },
      { a: '1' },
      { a: '1', b: '2', c: '' },
    ]) {
      expect(cache.get('k', labels)).toBeUndefined();
    }
    expect(cache.get('other', { a: '1', b: '2' })).toBeUndefined();
  });

  it('keeps series looked up every cycle and drops those not looked up for a few generations', () => {
    const cache = new SeriesCache<number>();
    const kept = { n: 'kept' };
    const dropped = { n: 'dropped' };
    cache.set('kept', kept, 1);
    cache.set('dropped', dropped, 2);
    // 10,000 series, each looked up once per cycle (as sets are), for five cycles.
    const others = Array.from({ length: 10_000 }, (_, i) => ({ n: String(i) }));
    for (let cycle = 0; cycle < 5; cycle++) {
      for (let i = 0; i < others.length; i++) {
        const labels = others[i] as { n: string };
        if (cache.get(String(i), labels) === undefined) cache.set(String(i), labels, i);
      }
      expect(cache.get('kept', kept)).toBe(1);
    }
    expect(cache.get('dropped', dropped)).toBeUndefined();
    expect(cache.get('9999', others[9999] as { n: string })).toBe(9999);
  });

  it('sameLabels compares names in order and values', () => {
    expect(sameLabels(['a', 'b'], { a: '1', b: '2' }, { a: '1', b: '2' })).toBe(true);
    expect(sameLabels(['a', 'b'], { a: '1', b: '2' }, { b: '2', a: '1' })).toBe(false);
    expect(sameLabels([], {}, {})).toBe(true);
    expect(sameLabels([], {}, { a: '' })).toBe(false);
  });
});
