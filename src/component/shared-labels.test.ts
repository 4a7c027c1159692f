import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import type { PipelineEvent } from '../model/types.js';
import { cycleEnd, nodeBatch } from '../testing/fixtures.js';
import { NameLists, SharedLabels, SharedLabelsByNode } from './shared-labels.js';

const from = { version: 1 };
const input = () => ({ type: 'pod', namespace_name: 'ns', pod_name: 'p' });

describe('SharedLabels', () => {
  it('keeps the frozen labels while the input is equal (same object or same content) and `from` the same', () => {
    const labels = new SharedLabels();
    labels.beginBatch();
    const first = input();
    expect(labels.get('k', first, from)).toBeUndefined();
    const built = labels.put('k', first, from, { ...first, pod_id: 'u' });
    expect(Object.isFrozen(built)).toBe(true);
    labels.beginBatch();
    expect(labels.get('k', first, from)).toBe(built);
    expect(labels.get('k', input(), from)).toBe(built);
  });

  it('misses on a changed value, a label added or removed, another order, or another `from`', () => {
    const labels = new SharedLabels();
    labels.beginBatch();
    labels.put('k', input(), from, { a: 'b' });
    expect(labels.get('k', { ...input(), pod_name: 'q' }, from)).toBeUndefined();
    expect(labels.get('k', { ...input(), extra: 'x' }, from)).toBeUndefined();
    expect(labels.get('k', { type: 'pod', namespace_name: 'ns' }, from)).toBeUndefined();
    expect(labels.get('k', { pod_name: 'p', type: 'pod', namespace_name: 'ns' }, from)).toBeUndefined();
    expect(labels.get('k', input(), { version: 1 })).toBeUndefined();
    expect(labels.get('other', input(), from)).toBeUndefined();
    expect(labels.get('k', input(), from)).toEqual({ a: 'b' });
  });

  it('replaces an entry that missed, and forgets the keys a batch did not ask for', () => {
    const labels = new SharedLabels();
    labels.beginBatch();
    labels.put('a', input(), from, { v: '1' });
    labels.put('b', input(), from, { v: '1' });
    labels.beginBatch();
    const newer = { version: 2 };
    expect(labels.get('a', input(), newer)).toBeUndefined();
    expect(labels.put('a', input(), newer, { v: '2' })).toEqual({ v: '2' });
    expect(labels.size).toBe(2);
    labels.beginBatch(); // b was not asked for in the previous batch
    expect(labels.size).toBe(1);
    expect(labels.get('a', input(), newer)).toEqual({ v: '2' });
    expect(labels.get('b', input(), from)).toBeUndefined();
  });
  it('finds entries by the order of the calls, and by key when a batch comes in another order', () => {
    const labels = new SharedLabels();
    const a = { type: 'pod', pod_name: 'a' };
    const b = { type: 'pod', pod_name: 'b' };
    labels.beginBatch();
    labels.get('a', a, from);
    const outA = labels.put('a', a, from, { n: 'a' });
    labels.get('b', b, from);
    const outB = labels.put('b', b, from, { n: 'b' });
    for (let batch = 0; batch < 2; batch++) {
      labels.beginBatch();
      expect(labels.get('b', { ...b }, from)).toBe(outB);
      expect(labels.get('a', { ...a }, from)).toBe(outA);
      expect(labels.size).toBe(2);
    }
    labels.beginBatch();
    expect(labels.get('a', { ...a }, from)).toBe(outA);
    labels.beginBatch(); // b was not asked for
    expect(labels.size).toBe(1);
    expect(labels.get('b', { ...b }, from)).toBeUndefined();
    expect(labels.get('a', { ...a }, from)).toBe(outA);
  });
  it('finds entries in a batch of another order each time, by the same input objects or by key', () => {
    const labels = new SharedLabels();
    const inputs = Array.from({ length: 6 }, (_, i) => ({ type: 'pod', pod_name: `p${i}` }));
    const outputs = new Map<string, object>();
    labels.beginBatch();
    inputs.forEach((input, i) => {
      expect(labels.get(`k${i}`, input, from)).toBeUndefined();
      outputs.set(`k${i}`, labels.put(`k${i}`, input, from, { n: `${i}` }));
    });
    const orders = [
      [5, 4, 3, 2, 1, 0],
      [2, 0, 5, 1, 3, 4],
      [0, 1, 2, 3, 4, 5],
    ];
    for (const order of orders) {
      for (const fresh of [false, true]) {
        labels.beginBatch();
        for (const i of order) {
          const input = inputs[i] as (typeof inputs)[number];
          expect(labels.get(`k${i}`, fresh ? { ...input } : input, from)).toBe(outputs.get(`k${i}`));
        }
      }
    }
    expect(labels.size).toBe(6);
  });
});

describe('NameLists', () => {
  it('hands out one frozen list per list of names, in order', () => {
    const lists = new NameLists();
    const ab = lists.of({ a: '1', b: '2' });
    expect(ab).toEqual(['a', 'b']);
    expect(Object.isFrozen(ab)).toBe(true);
    expect(lists.of({ a: 'x', b: 'y' })).toBe(ab);
    expect(lists.of({ b: '2', a: '1' })).toEqual(['b', 'a']);
  });
});

describe('SharedLabelsByNode', () => {
  it('keeps labels per node and forgets a node absent for more than evictAfterCycles cycles', () => {
    const byNode = new SharedLabelsByNode(2);
    const marks = new Subject<PipelineEvent>();
    const passed: PipelineEvent[] = [];
    marks.pipe(byNode.forgetAbsentNodes()).subscribe((e) => passed.push(e));

    const a = byNode.forBatch(nodeBatch('a', 1, []));
    a.put('k', input(), from, { n: 'a' });
    const b = byNode.forBatch(nodeBatch('b', 1, []));
    expect(b).not.toBe(a);
    expect(b.get('k', input(), from)).toBeUndefined();
    for (let cycle = 1; cycle <= 3; cycle++) marks.next(cycleEnd(cycle, 1));
    expect(byNode.peek('a')).toBe(a);
    marks.next(cycleEnd(4, 1));
    expect(byNode.peek('a')).toBeUndefined();
    expect(passed).toHaveLength(4);
  });
});
