import { SetValues } from '../model/set-values.js';

/**
 * A vitest/Jest equality tester that compares SetValues by content, with each other or with a plain record, so
 * `expect(set.values).toEqual({ 'cpu/usage': 1 })` and `toEqual` over whole sets and batches compare values.
 * Without it two SetValues always look equal (their slots are private) and never equal a record.
 *
 * @example
 * import { expect } from 'vitest';
 * expect.addEqualityTesters([setValuesEquality]);
 */
export function setValuesEquality(
  this: { equals(a: unknown, b: unknown, customTesters?: readonly unknown[]): boolean },
  a: unknown,
  b: unknown,
  customTesters?: readonly unknown[],
): boolean | undefined {
  const aValues = a instanceof SetValues;
  const bValues = b instanceof SetValues;
  if (!aValues && !bValues) return undefined;
  // The same testers again: toMatchObject's subset rule then applies inside values too.
  return this.equals(aValues ? a.toJSON() : a, bValues ? b.toJSON() : b, customTesters);
}
