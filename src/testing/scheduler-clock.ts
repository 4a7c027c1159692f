import type { SchedulerLike } from 'rxjs';
import type { Clock } from '../component/clock.js';

/**
 * A clock that reads and schedules on an RxJS scheduler, for tests in virtual time (a `TestScheduler` or
 * `VirtualTimeScheduler`): the ticks and timeouts of whatever takes the clock advance when the test says so.
 *
 * @example
 * const scheduler = new VirtualTimeScheduler();
 * const ctx = testContext({ clock: schedulerClock(scheduler) });
 */
export function schedulerClock(scheduler: SchedulerLike): Clock {
  return { now: () => scheduler.now(), scheduler };
}
