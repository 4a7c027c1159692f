import { asyncScheduler, Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { Clock } from '../src/engine/clock.js';

/**
 * The system clock, except that every timer it schedules can be cancelled at once. The resolution clock
 * schedules its next tick after emitting the last one, so a pipeline run with `cycles` leaves a timer behind
 * that would keep the bench process alive; `cancelAll()` after the run ends it.
 *
 * @example
 * const clock = trackingClock();
 * await createPipeline(config, { registry, logger, clock, cycles: 5 }).run();
 * clock.cancelAll();
 */
export function trackingClock(): Clock & { cancelAll(): void } {
  const live = new Set<Subscription>();
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule<T>(
      work: (this: SchedulerAction<T>, state?: T) => void,
      delay?: number,
      state?: T,
    ): Subscription {
      const subscription = asyncScheduler.schedule(work, delay, state);
      live.add(subscription);
      subscription.add(() => live.delete(subscription));
      return subscription;
    },
  };
  return {
    now: () => Date.now(),
    scheduler,
    cancelAll() {
      for (const subscription of [...live]) subscription.unsubscribe();
    },
  };
}
