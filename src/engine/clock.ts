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

export function schedulerClock(scheduler: SchedulerLike): Clock {
  return { now: () => scheduler.now(), scheduler };
}

/** One tick of the resolution clock. `cycle` counts resolution periods since the epoch. */
export interface Tick {
  readonly cycle: number;
  /** The wall-clock boundary this tick belongs to (ms since epoch). */
  readonly time: number;
}

/**
 * Ticks on wall-clock boundaries (k × resolution), so that every heapstream replica and every restart samples
 * on the same grid. Each wait is computed from the clock, so ticks do not drift. With `immediate`, a first
 * tick fires at subscription, stamped with the boundary just passed, so a fresh start shows data at once.
 */
export function resolutionClock(resolutionMs: number, clock: Clock, immediate = false): Observable<Tick> {
  return new Observable<Tick>((subscriber) => {
    let lastCycle = -1;
    const emit = (cycle: number) => {
      if (cycle <= lastCycle) return;
      lastCycle = cycle;
      subscriber.next({ cycle, time: cycle * resolutionMs });
    };
    if (immediate) emit(Math.floor(clock.now() / resolutionMs));
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
