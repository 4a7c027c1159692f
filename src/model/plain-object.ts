/**
 * True for a JSON or YAML object (a mapping), false for null, arrays and every other value.
 *
 * @example
 * isPlainObject({ a: 1 }) // true
 * isPlainObject([1]) // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
