import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';

describe('AckTracker', () => {
  it('moves the acknowledged position only past records whose predecessors are all done', () => {
    const acks = new AckTracker(10);
    for (const seq of [11, 12, 13]) acks.add(seq);
    expect(acks.done(12)).toBe('held');
    expect(acks.acked).toBe(10);
    expect(acks.open).toBe(2);
    expect(acks.oldestOpen).toBe(11);
    expect(acks.done(11)).toBe('moved');
    expect(acks.acked).toBe(12);
    expect(acks.done(13)).toBe('moved');
    expect(acks.acked).toBe(13);
    expect(acks.open).toBe(0);
  });

  it('skips the gaps of records never taken (lost before a restart)', () => {
    const acks = new AckTracker(0);
    acks.add(1);
    acks.add(4);
    acks.done(1);
    expect(acks.acked).toBe(1);
    acks.done(4);
    expect(acks.acked).toBe(4);
    acks.add(9);
    expect(acks.acked).toBe(8);
  });

  it('ignores a record done twice or never taken', () => {
    const acks = new AckTracker(0);
    acks.add(1);
    acks.add(2);
    expect(acks.done(2)).toBe('held');
    expect(acks.done(2)).toBeUndefined();
    expect(acks.done(7)).toBeUndefined();
    expect(acks.isOpen(1)).toBe(true);
    expect(acks.isOpen(2)).toBe(false);
    expect(acks.done(1)).toBe('moved');
    expect(acks.acked).toBe(2);
  });
});
