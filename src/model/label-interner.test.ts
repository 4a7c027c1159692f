import { describe, expect, it } from 'vitest';
import { equalLabels, LabelInterner } from './label-interner.js';
import { SetValues } from './set-values.js';
import type { Labels } from './labels.js';
import type { LabeledValue, MetricSet } from './types.js';

function podSet(key: string, labels: Labels, labeled: LabeledValue[] = []): MetricSet {
  return { type: 'pod', key, labels, values: new SetValues(), labeled, scrapeTime: 0, startTime: 0 };
}

/** A fresh copy of every labels object, as a decoder makes them each scrape. */
const fresh = (labels: Labels): Labels => JSON.parse(JSON.stringify(labels)) as Labels;

describe('equalLabels', () => {
  it('compares names and values, not order or identity', () => {
    expect(equalLabels({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(equalLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(equalLabels({ a: '1', b: '2' }, { a: '1' })).toBe(false);
    expect(equalLabels({ a: '1' }, { a: '2' })).toBe(false);
    expect(equalLabels({ a: '1' }, { b: '1' })).toBe(false);
    expect(equalLabels({}, {})).toBe(true);
  });
});

describe('LabelInterner', () => {
  const podLabels = { type: 'pod', pod_name: 'web-1', namespace_name: 'default' };
  const volume = { resource_id: 'volume:data' };
  const cache = { resource_id: 'volume:cache' };

  it("gives a series the object of the scrape before while its labels are equal, its labeled values' too", () => {
    const interner = new LabelInterner();
    const first = podSet('pod:default/web-1', fresh(podLabels), [
      { name: 'filesystem/usage', labels: fresh(volume), value: 1 },
      { name: 'filesystem/usage', labels: fresh(cache), value: 2 },
    ]);
    interner.internSets([first]);
    const second = podSet('pod:default/web-1', fresh(podLabels), [
      { name: 'filesystem/usage', labels: fresh(cache), value: 3 },
      { name: 'filesystem/usage', labels: fresh(volume), value: 4 },
    ]);
    interner.internSets([second]);
    expect(second.labels).toBe(first.labels);
    // Matched by content, not position: the volumes came in the other order.
    expect(second.labeled[0]?.labels).toBe(first.labeled[1]?.labels);
    expect(second.labeled[1]?.labels).toBe(first.labeled[0]?.labels);
    expect(second.labeled.map((v) => v.value)).toEqual([3, 4]);
  });

  it('keeps a changed labels object, and hands that one out from then on', () => {
    const interner = new LabelInterner();
    const first = podSet('pod:default/web-1', fresh(podLabels));
    interner.internSets([first]);
    const changed = podSet('pod:default/web-1', { ...podLabels, pod_id: 'uid-2' });
    const changedLabels = changed.labels;
    interner.internSets([changed]);
    expect(changed.labels).toBe(changedLabels);
    expect(changed.labels).toEqual({ ...podLabels, pod_id: 'uid-2' });
    const third = podSet('pod:default/web-1', fresh(changedLabels));
    interner.internSets([third]);
    expect(third.labels).toBe(changedLabels);
  });

  it('never swaps labels between series', () => {
    const interner = new LabelInterner();
    const a = podSet('pod:default/a', { ...podLabels, pod_name: 'a' });
    const b = podSet('pod:default/b', { ...podLabels, pod_name: 'b' });
    interner.internSets([a, b]);
    const a2 = podSet('pod:default/a', fresh(b.labels));
    interner.internSets([a2]);
    expect(a2.labels).not.toBe(b.labels);
    expect(a2.labels.pod_name).toBe('b');
  });

  it('leaves frozen labels (a decoder constant) as they are', () => {
    const interner = new LabelInterner();
    const root = Object.freeze({ resource_id: '/' });
    const set = () =>
      podSet('pod:default/web-1', fresh(podLabels), [{ name: 'filesystem/usage', labels: root, value: 1 }]);
    interner.internSets([set()]);
    const again = set();
    interner.internSets([again]);
    expect(again.labeled[0]?.labels).toBe(root);
  });
});
