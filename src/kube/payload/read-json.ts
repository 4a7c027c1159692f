/**
 * Typed reads from a parsed JSON payload that throw a DecodeError naming the JSON path of a value with the
 * wrong shape. `null` and absent mean "this kubelet did not report it" and read as undefined.
 *
 * The path is passed in pieces (`path` of the object, a constant `section`, the `field`) and joined only when
 * a read fails, so the happy path builds no strings.
 */
import { DecodeError } from '../../component/errors.js';
import type { DecodeReport } from '../../model/decode-report.js';
import type { MetricDescriptor } from '../../model/catalogue.js';
import { fitsMetric } from '../../model/value-range.js';

export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * The object at `parent[field]`, or undefined when absent or null.
 *
 * @example
 * optionalObject(pod, 'cpu', 'pods[3]', '') // pod.cpu, or throws "pods[3].cpu: expected an object, got string"
 */
export function optionalObject(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
): JsonObject | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) fail(path, section, field, 'an object', value);
  return value as JsonObject;
}

/** The object at `parent[field]`; absent or null is an error too. */
export function requiredObject(parent: JsonObject, field: string, path: string, section: string): JsonObject {
  const value = optionalObject(parent, field, path, section);
  if (value === undefined) fail(path, section, field, 'an object', parent[field]);
  return value;
}

/** The array at `parent[field]`, or undefined when absent or null. */
export function optionalArray(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
): readonly unknown[] | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail(path, section, field, 'an array', value);
  return value as readonly unknown[];
}

/** Element `index` of the array found at `path.field`, which must be an object. */
export function elementObject(
  items: readonly unknown[],
  index: number,
  path: string,
  field: string,
): JsonObject {
  const value = items[index];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, '', `${field}[${index}]`, 'an object', value);
  }
  return value as JsonObject;
}

/** A string that must be present and non-empty (names that become keys). */
export function requiredString(parent: JsonObject, field: string, path: string, section: string): string {
  const value = parent[field];
  if (typeof value !== 'string') fail(path, section, field, 'a string', value);
  if (value === '') fail(path, section, field, 'a non-empty string', value);
  return value;
}

/** A string, or undefined when absent, null or empty (empty label values are omitted). */
export function optionalString(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
): string | undefined {
  const value = parent[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') fail(path, section, field, 'a string', value);
  return value;
}

/**
 * A kubelet counter or gauge (a Go uint64): a non-negative integer, or undefined when absent or null.
 *
 * @example
 * optionalCount(cpu, 'usageCoreNanoSeconds', 'pods[0]', 'cpu') // 8000
 */
export function optionalCount(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
): number | undefined {
  const value = parent[field];
  if (typeof value === 'number') {
    if (value >= 0 && Number.isInteger(value)) return value;
    fail(path, section, field, 'a non-negative integer', value);
  }
  if (value === undefined || value === null) return undefined;
  fail(path, section, field, 'a number', value);
}

/**
 * The value of catalogue metric `metric` at `parent[field]`, or undefined when absent or null. A number outside
 * the metric's range (the kubelet's uint64 "unknown" sentinel, a negative counter, `1e999`) is omitted and
 * recorded in `report`; a fraction where the kubelet's schema has an integer, or a non-number, is malformed.
 *
 * @example
 * metricValue(fs, 'capacityBytes', 'node', 'fs', FILESYSTEM_LIMIT, report) // undefined for 18446744073709551615
 */
export function metricValue(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
  metric: MetricDescriptor,
  report: DecodeReport,
): number | undefined {
  const value = parent[field];
  if (typeof value === 'number') {
    if (fitsMetric(metric, value)) {
      if (metric.valueType === 'float' || Number.isInteger(value)) return value;
      fail(path, section, field, 'a non-negative integer', value);
    }
    report.valueOutOfRange(pathOf(path, section, field), metric.name, metric, value);
    return undefined;
  }
  if (value === undefined || value === null) return undefined;
  fail(path, section, field, 'a number', value);
}

/** Any number (a Go float64), or undefined when absent or null. */
export function optionalNumber(
  parent: JsonObject,
  field: string,
  path: string,
  section: string,
): number | undefined {
  const value = parent[field];
  if (typeof value === 'number') return value;
  if (value === undefined || value === null) return undefined;
  fail(path, section, field, 'a number', value);
}

/** Throws the DecodeError for `path.section.field`, the empty pieces left out. */
export function fail(path: string, section: string, field: string, expected: string, got: unknown): never {
  throw new DecodeError(`${pathOf(path, section, field)}: expected ${expected}, got ${describe(got)}`);
}

/** `path.section.field` with the empty pieces left out; `payload` for the root. */
export function pathOf(path: string, section: string, field: string): string {
  let where = path;
  if (section !== '') where = where === '' ? section : `${where}.${section}`;
  if (field !== '') where = where === '' ? field : `${where}.${field}`;
  return where === '' ? 'payload' : where;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return value === '' ? 'empty string' : 'string';
    case 'number':
      return `number ${value}`;
    default:
      return typeof value;
  }
}
