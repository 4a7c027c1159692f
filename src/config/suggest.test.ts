import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, editDistance } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and transpositions as one edit each', () => {
    expect(editDistance('database', 'database')).toBe(0);
    expect(editDistance('databse', 'database')).toBe(1);
    expect(editDistance('tpye', 'type')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('closestMatch', () => {
  it('suggests a plausible typo and nothing for an unrelated word', () => {
    expect(closestMatch('databse', ['url', 'database', 'token'])).toBe('database');
    expect(closestMatch('max_in_flights', ['max_in_flight', 'buffer'])).toBe('max_in_flight');
    expect(closestMatch('kafka', ['influxdb', 'stdout'])).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
  });

  it('treats a change of case as one slip', () => {
    expect(closestMatch('Database', ['database'])).toBe('database');
  });

  it('formats the hint ready to append', () => {
    expect(didYouMean('lvels', ['levels'])).toBe(' (did you mean "levels"?)');
    expect(didYouMean('zzz', ['levels'])).toBe('');
  });
});

describe('closestMatch on a hostile value', () => {
  // A guard against length × length work, not a benchmark: before the length check this took seconds.
  it('answers at once for a 1 MB value, which cannot be a typo of a short name', { timeout: 1_000 }, () => {
    const huge = 'x'.repeat(1_000_000);
    const types = ['kubelet_summary', 'kubelet_cadvisor', 'kubelet_prometheus', 'stdout', 'file', 'kafka'];
    for (let i = 0; i < 5; i++) expect(closestMatch(huge, types)).toBeUndefined();
  });
});
