/**
 * What a decoder left out of one payload, and the limits it decodes under. Decoders stay plain functions: they
 * fill a DecodeReport, and the source that called them counts and logs it (with the node's name) once per scrape.
 */
import { rangeOf, type ValueKind } from './value-range.js';

/** Why a value was omitted: outside what its catalogue metric can hold (see value-range.ts). */
export type ValueOmitReason = 'out_of_range';

/** Why a whole metric set was left out: a label that is not a string. */
export type SetOmitReason = 'invalid_label';

/** Sets one node may give per scrape by default: a full node (110 pods × a few containers) many times over. */
export const DEFAULT_MAX_SETS_PER_NODE = 10_000;

/** Samples one Prometheus payload may hold by default: a full node's `/metrics/cadvisor` (~30,000) three times over. */
export const DEFAULT_MAX_SERIES = 100_000;

/**
 * The counts and first offenders of one payload. A problem's text is built only when it happens, so a clean
 * payload costs nothing but the object.
 *
 * @example
 * const report = new DecodeReport();
 * const sets = decodeSummary(payload, node, { report });
 * if (report.valuesOmitted > 0) log.warn(`${report.valuesOmitted} values omitted, first: ${report.firstValue}`);
 */
export class DecodeReport {
  /** Values omitted as `out_of_range`. */
  valuesOmitted = 0;
  /** Where the first omitted value was and why, e.g. `node.fs.capacityBytes: 18446744073709551615 is not …`. */
  firstValue: string | undefined;
  /** Sets left out as `invalid_label`. */
  setsOmitted = 0;
  /** Where the first left-out set's bad label was and why. */
  firstSet: string | undefined;

  /**
   * Records a value that does not fit its metric. `where` is the JSON path or line of the value.
   *
   * @example
   * report.valueOutOfRange('node.fs.capacityBytes', 'filesystem/limit', FILESYSTEM_LIMIT, 18446744073709551615);
   */
  valueOutOfRange(where: string, name: string, metric: ValueKind, value: number): void {
    this.valuesOmitted++;
    this.firstValue ??= `${where}: ${String(value)} is not ${rangeOf(metric)}, as ${name} must be; omitted`;
  }

  /**
   * Records a set left out for a label that is not a string.
   *
   * @example
   * report.invalidLabel('["/kubepods/x"].spec.labels["app"]', 42);
   */
  invalidLabel(where: string, got: unknown): void {
    this.setsOmitted++;
    this.firstSet ??= `${where}: expected a string, got ${describeJson(got)}; the set is left out`;
  }
}

/** What a decoder takes besides the payload: where to report, and how much one node may send. */
export interface DecodeOptions {
  /** Filled with what was omitted; a throwaway one when absent. */
  readonly report?: DecodeReport;
  /** More sets than this fail the node (reason `too_large`). Default DEFAULT_MAX_SETS_PER_NODE. */
  readonly maxSets?: number;
  /** Prometheus only: more samples than this fail the node (reason `too_large`). Default DEFAULT_MAX_SERIES. */
  readonly maxSeries?: number;
}

/** A JSON value as an error message shows it: strings quoted, arrays and objects short. */
export function describeJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
