import { describe, expect, it } from 'vitest';
import { LabelCopier } from './label-copier.js';

// Heapster A8 (metrics/util/label_copier_test.go).
const POD_LABELS = {
  name: 'bike',
  colour: 'red',
  price: 'too_high',
  weight: '10kg',
  labels: 'preorder;configurable',
};
const JOINED = 'colour:red,labels:preorder;configurable,name:bike,price:too_high,weight:10kg';

const copier = (o: { separator?: string; storeLabels?: string[]; ignoreLabels?: string[] } = {}) =>
  new LabelCopier({
    separator: o.separator ?? ',',
    storeLabels: o.storeLabels ?? [],
    ignoreLabels: o.ignoreLabels ?? [],
  });

describe('LabelCopier (Heapster A8)', () => {
  it('joins sorted key:value pairs with the separator', () => {
    expect(copier().labelsFor(POD_LABELS)).toEqual({ labels: JOINED });
    expect(copier({ separator: '-' }).labelsFor(POD_LABELS)).toEqual({ labels: JOINED.replaceAll(',', '-') });
  });

  it('stores chosen labels, renamed with new=old, skipping unknown ones', () => {
    expect(
      copier({ storeLabels: ['name', 'price', 'copiedlabels=labels', 'unknown'] }).labelsFor(POD_LABELS),
    ).toEqual({
      labels: JOINED,
      name: 'bike',
      price: 'too_high',
      copiedlabels: 'preorder;configurable',
    });
  });

  it('leaves ignored labels out of the join', () => {
    expect(copier({ ignoreLabels: ['colour', 'weight', 'unknown'] }).labelsFor(POD_LABELS)).toEqual({
      labels: 'labels:preorder;configurable,name:bike,price:too_high',
    });
  });

  it('omits an empty join and computes once per labels object', () => {
    const c = copier();
    expect(c.labelsFor({})).toEqual({});
    expect(c.labelsFor(POD_LABELS)).toBe(c.labelsFor(POD_LABELS));
  });
});
