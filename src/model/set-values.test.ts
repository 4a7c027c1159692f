import { describe, expect, it } from 'vitest';
import { CATALOGUE } from './catalogue.js';
import { SLOT_COUNT, SetValues, VALUE_SLOTS, slotOf } from './set-values.js';

describe('SetValues', () => {
  it('gives every plain catalogue metric a slot, and labeled or unknown names none', () => {
    const plain = CATALOGUE.filter((m) => !m.labeled).map((m) => m.name);
    expect(VALUE_SLOTS).toEqual(plain);
    expect(SLOT_COUNT).toBe(plain.length);
    expect(plain.map(slotOf)).toEqual(plain.map((_, i) => i));
    expect(slotOf('filesystem/usage')).toBe(-1);
    expect(slotOf('custom/queue_depth')).toBe(-1);
  });

  it('reads back what was set, by name and by slot, and counts it', () => {
    const values = new SetValues();
    expect(values.size).toBe(0);
    values.set('cpu/usage', 5e9).set('custom/queue', 3).set('memory/working_set', 0);
    expect(values.get('cpu/usage')).toBe(5e9);
    expect(values.getAt(slotOf('cpu/usage'))).toBe(5e9);
    expect(values.get('custom/queue')).toBe(3);
    // Zero is a value, not an empty slot.
    expect(values.get('memory/working_set')).toBe(0);
    expect(values.has('memory/working_set')).toBe(true);
    expect(values.get('memory/rss')).toBeUndefined();
    expect(values.has('memory/rss')).toBe(false);
    expect(values.size).toBe(3);
    values.set('cpu/usage', 6e9);
    values.set('custom/queue', 4);
    expect(values.size).toBe(3);
  });

  it('keeps integers beyond 2^53 and negative zero exactly as numbers hold them', () => {
    const values = new SetValues();
    values.set('cpu/usage', 2 ** 60 + 2 ** 10);
    values.set('uptime', -0);
    expect(values.get('cpu/usage')).toBe(2 ** 60 + 2 ** 10);
    expect(Object.is(values.get('uptime'), -0)).toBe(true);
  });

  it('deletes from slots and from the other names', () => {
    const values = SetValues.from({ 'cpu/usage': 1, 'custom/a': 2 });
    expect(values.delete('cpu/usage')).toBe(true);
    expect(values.delete('cpu/usage')).toBe(false);
    expect(values.delete('custom/a')).toBe(true);
    expect(values.delete('custom/a')).toBe(false);
    expect(values.size).toBe(0);
    expect(values.others()).toBeUndefined();
    expect(values.toJSON()).toEqual({});
  });

  it('iterates by catalogue slot, then other names in the order they were set', () => {
    const values = new SetValues();
    values.set('custom/z', 1).set('memory/usage', 2).set('custom/a', 3).set('cpu/usage', 4);
    expect(values.names()).toEqual(['cpu/usage', 'memory/usage', 'custom/z', 'custom/a']);
    expect([...values]).toEqual([
      ['cpu/usage', 4],
      ['memory/usage', 2],
      ['custom/z', 1],
      ['custom/a', 3],
    ]);
    expect(JSON.stringify(values)).toBe('{"cpu/usage":4,"memory/usage":2,"custom/z":1,"custom/a":3}');
  });

  it('gives each set its own row, also across slabs', () => {
    // More sets than one slab holds, each with a distinct value: no two share a row.
    const all = Array.from({ length: 1000 }, (_, i) => SetValues.from({ 'cpu/usage': i, uptime: -i }));
    expect(all.map((v) => v.get('cpu/usage'))).toEqual(all.map((_, i) => i));
    expect(all.map((v) => v.get('uptime'))).toEqual(all.map((_, i) => -i));
    expect(all.every((v) => v.size === 2)).toBe(true);
  });

  it('clones into an independent row', () => {
    const original = SetValues.from({ 'cpu/usage': 1, 'custom/a': 2 });
    const copy = original.clone();
    copy.set('cpu/usage', 10).set('custom/a', 20).set('memory/usage', 30);
    expect(original.toJSON()).toEqual({ 'cpu/usage': 1, 'custom/a': 2 });
    expect(copy.toJSON()).toEqual({ 'cpu/usage': 10, 'memory/usage': 30, 'custom/a': 20 });
    expect(copy.size).toBe(3);
  });

  it('refuses NaN and non-numbers, naming the metric', () => {
    const values = new SetValues();
    expect(() => values.set('cpu/usage', NaN)).toThrow(/'cpu\/usage' to NaN/);
    expect(() => values.set('custom/a', 'high' as unknown as number)).toThrow(/'custom\/a' to string/);
    expect(values.size).toBe(0);
  });

  it('refuses every change once frozen, and still reads', () => {
    const values = SetValues.from({ 'cpu/usage': 1 }).freeze();
    expect(() => values.set('cpu/usage', 2)).toThrow(TypeError);
    expect(() => values.set('custom/a', 2)).toThrow(TypeError);
    expect(() => values.setAt(slotOf('uptime'), 2)).toThrow(TypeError);
    expect(() => values.delete('cpu/usage')).toThrow(TypeError);
    expect(values.get('cpu/usage')).toBe(1);
    expect(values.frozen).toBe(true);
    expect(values.clone().frozen).toBe(false);
  });

  it('compares by content in tests, with SetValues and with plain records', () => {
    expect(SetValues.from({ 'cpu/usage': 1 })).toEqual(SetValues.from({ 'cpu/usage': 1 }));
    expect(SetValues.from({ 'cpu/usage': 1 })).not.toEqual(SetValues.from({ 'cpu/usage': 2 }));
    expect(SetValues.from({ 'cpu/usage': 1 })).toEqual({ 'cpu/usage': 1 });
    expect({ values: SetValues.from({ uptime: 1 }) }).not.toEqual({ values: {} });
  });
});
