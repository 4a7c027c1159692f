import { SetValues } from '../model/set-values.js';

/**
 * Freezes an object graph in place so that any change to it throws (ES modules run in strict mode). Tests use it
 * on what a component must only read: the batches a sink is given, what a processor has already passed on.
 *
 * @example
 * await sink.write(deepFreeze(summaryBatch(payload))); // a sink that changes its batch fails with a TypeError
 */
export function deepFreeze<T>(value: T): T {
  // Values live in slots Object.freeze cannot reach: SetValues refuses changes itself once frozen.
  if (value instanceof SetValues) {
    value.freeze();
    return value;
  }
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
