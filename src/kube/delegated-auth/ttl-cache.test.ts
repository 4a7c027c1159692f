import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('forgets an entry once its own TTL has passed', () => {
    const cache = new TtlCache<string, boolean>(10);
    cache.set('allowed', true, 10_000, 0);
    cache.set('denied', false, 1_000, 0);
    expect(cache.get('allowed', 5_000)).toBe(true);
    expect(cache.get('denied', 5_000)).toBeUndefined();
    expect(cache.get('allowed', 10_000)).toBeUndefined();
  });

  it('never holds more than its bound: expired entries go first, then the oldest', () => {
    const cache = new TtlCache<number, number>(3);
    cache.set(1, 1, 100, 0);
    cache.set(2, 2, 10_000, 0);
    cache.set(3, 3, 10_000, 0);
    cache.set(4, 4, 10_000, 200); // 1 has expired: it makes room
    expect([1, 2, 3, 4].map((k) => cache.get(k, 200))).toEqual([undefined, 2, 3, 4]);
    cache.set(5, 5, 10_000, 300); // nothing expired: the oldest (2) goes
    expect([2, 3, 4, 5].map((k) => cache.get(k, 300))).toEqual([undefined, 3, 4, 5]);
    expect(cache.size).toBe(3);
  });

  it('keeps nothing for a TTL of zero (caching switched off)', () => {
    const cache = new TtlCache<string, string>(3);
    cache.set('k', 'v', 0, 0);
    expect(cache.get('k', 0)).toBeUndefined();
  });
});
