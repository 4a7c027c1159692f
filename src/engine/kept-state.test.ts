import { describe, expect, it } from 'vitest';
import { KeptState } from './kept-state.js';

describe('KeptState', () => {
  it("hands a key's state to the next pipeline and drops the keys it does not claim", () => {
    const first = new KeptState();
    const series = first.keep('rate', () => ({ rows: 1 }));
    first.keep('removed processor', () => ({ rows: 2 }));

    const second = new KeptState(first);
    expect(second.keep('rate', () => ({ rows: 0 }))).toBe(series);
    expect(second.keys).toEqual(['rate']);
    // A third pipeline sees only what the second kept.
    expect(new KeptState(second).keep('removed processor', () => ({ rows: 3 }))).toEqual({ rows: 3 });
  });

  it('gives a key claimed twice in one pipeline a fresh state the second time', () => {
    const kept = new KeptState();
    const a = kept.keep('rate', () => ({ id: 'a' }));
    const b = kept.keep('rate', () => ({ id: 'b' }));
    expect(b).not.toBe(a);
    expect(new KeptState(kept).keep('rate', () => ({ id: 'c' }))).toBe(a);
  });

  it('keeps a resource running while the next pipeline claims it, and disposes it once none does', async () => {
    const stopped: string[] = [];
    const first = new KeptState();
    const cluster = first.keep(
      'sim a',
      () => 'cluster a',
      (c) => void stopped.push(c),
    );
    first.keep(
      'sim b',
      () => 'cluster b',
      (c) => void stopped.push(c),
    );
    first.expectSuccessor();
    expect(first.hasSuccessor).toBe(true);

    const second = new KeptState(first);
    expect(
      second.keep(
        'sim a',
        () => 'new cluster',
        (c) => void stopped.push(c),
      ),
    ).toBe(cluster);
    // The first pipeline releases what the second did not claim; the claimed one is the second's now.
    await first.release();
    expect(stopped).toEqual(['cluster b']);
    await second.release();
    expect(stopped).toEqual(['cluster b', 'cluster a']);
    await second.release();
    expect(stopped).toHaveLength(2);
  });
});
