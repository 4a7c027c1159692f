import { VirtualAction, VirtualTimeScheduler, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { schedulerClock } from '../testing/index.js';
import { resolutionClock } from './clock.js';

/** A frame limit on every scheduler, so a leaked, self-rescheduling timer fails a test instead of flushing forever. */
const virtualScheduler = () => new VirtualTimeScheduler(VirtualAction, 100_000);

describe('resolutionClock', () => {
  it('ticks on wall-clock boundaries, not at subscription time plus the period', () => {
    const scheduler = virtualScheduler();
    scheduler.frame = 12_345;
    const times: number[] = [];
    resolutionClock(10_000, schedulerClock(scheduler))
      .pipe(take(3))
      .subscribe((tick) => times.push(tick.time));
    scheduler.flush();
    expect(times).toEqual([20_000, 30_000, 40_000]);
  });

  it('stamps the immediate first tick with the boundary just passed', () => {
    const scheduler = virtualScheduler();
    scheduler.frame = 12_345;
    const ticks: { cycle: number; time: number }[] = [];
    resolutionClock(10_000, schedulerClock(scheduler), true)
      .pipe(take(2))
      .subscribe((tick) => ticks.push(tick));
    scheduler.flush();
    expect(ticks).toEqual([
      { cycle: 1, time: 10_000 },
      { cycle: 2, time: 20_000 },
    ]);
  });

  it('waits for the next boundary rather than tick at once when less than half a resolution is left', () => {
    const scheduler = virtualScheduler();
    scheduler.frame = 18_000;
    const times: number[] = [];
    resolutionClock(10_000, schedulerClock(scheduler), true)
      .pipe(take(2))
      .subscribe((tick) => times.push(tick.time));
    scheduler.flush();
    expect(times).toEqual([20_000, 30_000]);
  });

  it('after a reload, starts with the first cycle the replaced pipeline did not tick', () => {
    const scheduler = virtualScheduler();
    scheduler.frame = 12_345;
    const cycles: number[] = [];
    // The old pipeline ticked cycle 1 (at 10 s): no immediate tick for it again.
    resolutionClock(10_000, schedulerClock(scheduler), true, 1)
      .pipe(take(2))
      .subscribe((tick) => cycles.push(tick.cycle));
    scheduler.flush();
    expect(cycles).toEqual([2, 3]);
  });

  it('leaves no timer behind when the consumer completes on a tick', () => {
    const scheduler = virtualScheduler();
    resolutionClock(1_000, schedulerClock(scheduler)).pipe(take(2)).subscribe();
    scheduler.flush();
    // flush() stops at the frame limit; with a leaked timer the queue would still hold the next tick.
    expect(scheduler.actions).toHaveLength(0);
    expect(scheduler.frame).toBe(2_000);
  });
});
