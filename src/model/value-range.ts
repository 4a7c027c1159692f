/**
 * What a decoded value may be, by the catalogue's kind of its metric. Every kubelet source checks each value it
 * reads with `fitsMetric` before it keeps it, so the Summary, cAdvisor and Prometheus sources omit exactly the
 * same values, and no sink meets a number its schema cannot hold (an INT64 Parquet column, an InfluxDB integer).
 */
import { metricByName, type MetricDescriptor } from './catalogue.js';

/** 2^63: the first integer an int64 cannot hold. The kubelet's uint64 "unknown" sentinel (2^64 − 1) is above. */
export const INT_LIMIT = 2 ** 63;

/** A limit at or above this is cAdvisor's way of saying "unlimited" (Go's MaxInt64 rounded to a page). */
export const UNLIMITED_AT = 2 ** 62;

/** What a value is checked against: a catalogue metric, or the float gauge a custom metric is. */
export type ValueKind = Pick<MetricDescriptor, 'valueType' | 'kind'>;

/** Custom metrics (`custom/<name>`, from userDefinedMetrics) are float gauges: any finite number. */
export const CUSTOM_METRIC_KIND: ValueKind = { valueType: 'float', kind: 'gauge' };

/**
 * Whether `value` fits `metric`. An int metric holds an integer in [0, 2^63): every one in the catalogue counts
 * something (bytes, ns, ms, events, millicores), which a kubelet sends as a uint64 and a sink stores as an int64,
 * so a negative value or one from 2^63 up (the uint64 sentinels, `1.2e32`) is no measurement. A float holds any
 * finite number, except that a counter (cumulative) is never negative. NaN and ±Infinity never fit. A few
 * comparisons, no allocation: decoders call it for every value.
 *
 * @example
 * fitsMetric(metricByName('filesystem/limit')!, 18446744073709551615) // false
 * fitsMetric(metricByName('cpu/usage')!, -1)                          // false
 */
export function fitsMetric(metric: ValueKind, value: number): boolean {
  if (metric.valueType === 'int') return value >= 0 && value < INT_LIMIT;
  if (metric.kind === 'cumulative') return value >= 0 && value < Infinity;
  return value - value === 0;
}

/**
 * The range of `metric`, as a log message names it.
 *
 * @example
 * rangeOf(metricByName('cpu/usage')!) // 'an integer in [0, 2^63)'
 */
export function rangeOf(metric: ValueKind): string {
  if (metric.valueType === 'int') return 'an integer in [0, 2^63)';
  return metric.kind === 'cumulative' ? 'a finite number ≥ 0' : 'a finite number';
}

/**
 * The descriptor of a catalogue metric that a decoder reads, looked up once when the decoder's module loads.
 * Throws for a name the catalogue lacks, so a typo fails every test at once rather than skipping values.
 *
 * @example
 * const CPU_USAGE = catalogued('cpu/usage');
 */
export function catalogued(name: string): MetricDescriptor {
  const metric = metricByName(name);
  if (metric === undefined) throw new Error(`${name} is not in the catalogue`);
  return metric;
}
