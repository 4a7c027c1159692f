import { Observable, asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * Where components get time from, so every timing path can run on a virtual scheduler in tests.
 *
 * @example
 * const clock = systemClock(); clock.now();
 */
export interface Clock {
  now(): number;
  readonly scheduler: SchedulerLike;
}

export function systemClock(): Clock {
  return { now: () => Date.now(), scheduler: asyncScheduler };
}

/** One tick of the resolution clock. `cycle` counts resolution periods since the epoch. */
export interface Tick {
  readonly cycle: number;
  /** The wall-clock boundary this tick belongs to (ms since epoch). */
  readonly time: number;
}

/**
 * How much of a resolution must remain before the next boundary for an immediate first tick to fire. A first
 * cycle is slower than the rest (new connections, TLS handshakes, a cold JIT): started just before a boundary, its
 * scrapes would still be running when the next tick comes, and every node still in flight would count as `busy`.
 * With half a resolution left, the first cycle has at least as long as the source's timeout usually is (5 s of
 * 15 s); closer to the boundary, the first tick waits for it.
 */
export const IMMEDIATE_TICK_MIN_LEAD = 0.5;

/**
 * Ticks on wall-clock boundaries (k × resolution), so that every heapstream replica and every restart samples
 * on the same grid. Each wait is computed from the clock, so ticks do not drift. With `immediate`, a first
 * tick fires at subscription, stamped with the boundary just passed, so a fresh start shows data at once — unless
 * the next boundary is less than IMMEDIATE_TICK_MIN_LEAD of a resolution away. Cycles up to `afterCycle` (those
 * the pipeline a reload replaces already took) never tick, so no cycle is scraped twice or out of order.
 */
export function resolutionClock(
  resolutionMs: number,
  clock: Clock,
  immediate = false,
  afterCycle = -1,
): Observable<Tick> {
  return new Observable<Tick>((subscriber) => {
    let lastCycle = afterCycle;
    const emit = (cycle: number) => {
      if (cycle <= lastCycle) return;
      lastCycle = cycle;
      subscriber.next({ cycle, time: cycle * resolutionMs });
    };
    if (immediate) {
      const now = clock.now();
      const current = Math.floor(now / resolutionMs);
      const untilNext = (current + 1) * resolutionMs - now;
      if (untilNext >= resolutionMs * IMMEDIATE_TICK_MIN_LEAD) emit(current);
    }
    const scheduleNext = () => {
      const now = clock.now();
      const nextCycle = Math.floor(now / resolutionMs) + 1;
      return clock.scheduler.schedule(
        () => {
          emit(nextCycle);
          // A consumer may complete on this tick (take(n), --cycles): its teardown already ran, so a timer
          // scheduled now would never be cancelled and would keep the process alive.
          if (!subscriber.closed) subscription = scheduleNext();
        },
        nextCycle * resolutionMs - now,
      );
    };
    let subscription = scheduleNext();
    return () => subscription.unsubscribe();
  });
}
