import { describe, expect, it } from 'vitest';
import type { MetricSet } from '../model/types.js';
import { LabelInterner } from './label-interner.js';

function set(key: string, labels: Record<string, string>): MetricSet {
  return { type: 'pod', key, labels, values: { 'cpu/usage': 1 }, labeled: [], scrapeTime: 1, startTime: 0 };
}

describe('LabelInterner', () => {
  it('gives a set the same frozen labels object every scrape while its labels are unchanged', () => {
    const interner = new LabelInterner();
    const [first] = interner.intern('n1', 1, [set('a', { pod_name: 'a', type: 'pod' })]);
    const [second] = interner.intern('n1', 2, [set('a', { pod_name: 'a', type: 'pod' })]);
    const [third] = interner.intern('n1', 3, [set('a', { pod_name: 'a', type: 'pod' })]);
    expect(Object.isFrozen(first!.labels)).toBe(true);
    expect(second!.labels).toBe(first!.labels);
    expect(third!.labels).toBe(first!.labels);
    expect(third!.values).toEqual({ 'cpu/usage': 1 });
  });

  it('gives a new object when a value, a name or the order of the labels changed', () => {
    const interner = new LabelInterner();
    let cycle = 1;
    const [first] = interner.intern('n1', cycle++, [set('a', { pod_name: 'a', type: 'pod' })]);
    for (const changed of [
      { pod_name: 'b', type: 'pod' },
      { pod_name: 'a', type: 'pod', pod_id: 'u' },
      { pod_name: 'a' },
      { type: 'pod', pod_name: 'a' },
    ]) {
      const [next] = interner.intern('n1', cycle++, [set('a', changed)]);
      expect(next!.labels).not.toBe(first!.labels);
      expect(next!.labels).toEqual(changed);
      const [again] = interner.intern('n1', cycle++, [set('a', changed)]);
      expect(again!.labels).toBe(next!.labels);
    }
  });

  it('keeps nodes apart, forgets sets that are gone and nodes not scraped for a few cycles', () => {
    const interner = new LabelInterner();
    const [a1] = interner.intern('n1', 1, [set('a', { x: '1' })]);
    const [b1] = interner.intern('n2', 1, [set('a', { x: '1' })]);
    expect(b1!.labels).not.toBe(a1!.labels);
    interner.intern('n1', 2, [set('other', { x: '1' })]);
    const [back] = interner.intern('n1', 3, [set('a', { x: '1' })]);
    expect(back!.labels).not.toBe(a1!.labels);
    const [kept] = interner.intern('n1', 4, [set('a', { x: '1' })]);
    expect(kept!.labels).toBe(back!.labels);
    const [late] = interner.intern('n2', 10, [set('a', { x: '1' })]);
    expect(late!.labels).not.toBe(b1!.labels);
  });

  it('keeps the sets still there when others go and come in the same scrape', () => {
    const interner = new LabelInterner();
    const [a, b] = interner.intern('n1', 1, [set('a', { x: 'a' }), set('b', { x: 'b' })]);
    const [a2, c] = interner.intern('n1', 2, [set('a', { x: 'a' }), set('c', { x: 'c' })]);
    expect(a2!.labels).toBe(a!.labels);
    expect(c!.labels).toEqual({ x: 'c' });
    const [, b3] = interner.intern('n1', 3, [set('a', { x: 'a' }), set('b', { x: 'b' })]);
    expect(b3!.labels).not.toBe(b!.labels);
  });
});
