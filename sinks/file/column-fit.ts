import { PermanentError } from '../../src/component/errors.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import { SetValues, type ReadonlySetValues } from '../../src/model/set-values.js';
import { hasExactlyKeyLabels } from './rows.js';
import { SET_TYPES } from '../../src/model/catalogue.js';
import { isPlainObject } from '../../src/model/plain-object.js';
import type { TableLayout } from './schema.js';

/** Why a value was left out of its row: a number its INT64 column cannot hold, or not a number at all. */
export type OmitReason = 'out_of_range' | 'wrong_type';

/** Told about each value left out of a row, so the sink can count and log it. */
export type OnOmitted = (reason: OmitReason, set: MetricSet, name: string, value: unknown) => void;

// INT64 holds [-2^63, 2^63). Both bounds are exact doubles, and doubles that large are whole numbers, so
// rounding a fraction (toInt64) cannot carry a value past them.
const INT64_MIN = -(2 ** 63);
const INT64_END = 2 ** 63;
/** Times are written as INT64 microseconds: 9e15 ms (the year 287,000) keeps `ms * 1000` well inside. */
const TIME_MS_END = 9e15;
const KNOWN_TYPES: ReadonlySet<string> = new Set(SET_TYPES);

/**
 * Checks what every row of a batch takes from the batch itself (partitions and `batch_time` come from its
 * time, the `node` column from its node), before any of it is taken.
 *
 * @example
 * checkBatch(batch, 'sink lake'); // throws PermanentError for a NaN or out-of-range time
 */
export function checkBatch(batch: MetricBatch, sink: string): void {
  const t: unknown = batch.timestamp;
  if (typeof t !== 'number' || !(Math.abs(t) < TIME_MS_END)) {
    throw new PermanentError(`${sink}: batch of cycle ${batch.cycle} has time ${describe(t)}, not a time`);
  }
  const node: unknown = batch.scope === 'node' ? batch.node : '';
  if (typeof node !== 'string') {
    throw new PermanentError(
      `${sink}: batch of cycle ${batch.cycle} has node ${describe(node)}, not a string`,
    );
  }
}

/**
 * Fits one set (already through `checkSet`) to the columns of `layout`, at `write`, so that completing a file
 * can never fail on its rows. A value its column cannot hold (beyond INT64, NaN in INT64, not a number) is left
 * out and reported to `omitted`. Returns the set itself when everything fits (no copy), else a copy without the
 * values that did not.
 *
 * @example
 * const fitted = fitSet(set, layoutFor('node'), (reason, s, name) => count(reason));
 */
export function fitSet(set: MetricSet, layout: TableLayout, omitted: OnOmitted): MetricSet {
  const values = fitValues(set, layout, omitted);
  const labeled = fitLabeled(set, layout, omitted);
  const scrapeTime = fitTime(set, 'scrape time', set.scrapeTime, omitted);
  const startTime = fitTime(set, 'start time', set.startTime, omitted);
  if (
    values === set.values &&
    labeled === set.labeled &&
    scrapeTime === set.scrapeTime &&
    startTime === set.startTime
  ) {
    return set;
  }
  return { ...set, values, labeled, scrapeTime, startTime };
}

/**
 * Throws PermanentError, naming the set and the label, when a set cannot be stored at all: its type is not a
 * known set type, or its key or a label (of the set or of a labeled value) is not a string.
 *
 * @example
 * checkSet({ ...set, labels: { pod_name: 42 } }, 'sink lake'); // set …: label "pod_name" is a number (42), not a string
 */
export function checkSet(set: MetricSet, sink: string): void {
  if (!isPlainObject(set)) throw new PermanentError(`${sink}: a set is ${describe(set)}`);
  const key: unknown = set.key;
  const where = `${sink}: set ${typeof key === 'string' ? key : describe(key)}`;
  if (typeof key !== 'string') throw new PermanentError(`${where}: its key is not a string`);
  if (!KNOWN_TYPES.has(set.type)) {
    const type: unknown = set.type;
    const shown = typeof type === 'string' ? `"${type}"` : describe(type);
    throw new PermanentError(`${where}: type ${shown} is not one of ${SET_TYPES.join(', ')}`);
  }
  if (!isPlainObject(set.labels)) throw new PermanentError(`${where}: labels are ${describe(set.labels)}`);
  checkLabels(set.labels, where, '');
  if (!(set.values instanceof SetValues)) {
    throw new PermanentError(`${where}: values are ${describe(set.values)}, not SetValues`);
  }
  if (!Array.isArray(set.labeled)) {
    throw new PermanentError(`${where}: labeled values are ${describe(set.labeled)}, not a list`);
  }
  for (const lv of set.labeled as readonly unknown[]) {
    if (!isPlainObject(lv) || typeof lv.name !== 'string' || !isPlainObject(lv.labels)) {
      throw new PermanentError(`${where}: a labeled value is ${describe(lv)}, not {name, labels, value}`);
    }
    checkLabels(lv.labels, where, ` of ${lv.name}`);
  }
}

function checkLabels(labels: Record<string, unknown>, where: string, of: string): void {
  for (const name in labels) {
    const value = labels[name];
    if (typeof value !== 'string') {
      throw new PermanentError(`${where}: label "${name}"${of} is ${describe(value)}, not a string`);
    }
  }
}

/** The values that fit, or `set.values` itself when all do. */
function fitValues(set: MetricSet, layout: TableLayout, omitted: OnOmitted): ReadonlySetValues {
  let kept: SetValues | undefined;
  set.values.forEach((value, name) => {
    const at = layout.metricIndex.get(name);
    // A value without a column goes to other_values, which is DOUBLE.
    const reason = misfit(value, at !== undefined && layout.metrics[at]?.valueType === 'int');
    if (reason === undefined) return;
    (kept ??= set.values.clone()).delete(name);
    omitted(reason, set, name, value);
  });
  return kept ?? set.values;
}

function fitLabeled(set: MetricSet, layout: TableLayout, omitted: OnOmitted): readonly LabeledValue[] {
  let kept: LabeledValue[] | undefined;
  for (let i = 0; i < set.labeled.length; i++) {
    const lv = set.labeled[i] as LabeledValue;
    const reason = misfit(lv.value, isIntField(lv, layout));
    if (reason === undefined) {
      kept?.push(lv);
      continue;
    }
    kept ??= set.labeled.slice(0, i);
    omitted(reason, set, lv.name, lv.value);
  }
  return kept ?? set.labeled;
}

/** True when the value lands in an INT64 family field; outside the families it goes to other_labeled (DOUBLE). */
function isIntField(lv: LabeledValue, layout: TableLayout): boolean {
  const at = layout.familyField.get(lv.name);
  if (at === undefined) return false;
  const family = layout.families[at[0]];
  if (family === undefined || !hasExactlyKeyLabels(lv.labels, family)) return false;
  return family.fields[at[1]]?.valueType === 'int';
}

function misfit(value: unknown, int: boolean): OmitReason | undefined {
  if (typeof value !== 'number') return 'wrong_type';
  // NaN fails the comparison too: an INT64 column has no NaN.
  if (int && !(value >= INT64_MIN && value < INT64_END)) return 'out_of_range';
  return undefined;
}

/** A time that fits, or 0 ("the kubelet gave none"): rows then fall back to the batch time, as documented. */
function fitTime(set: MetricSet, name: string, time: unknown, omitted: OnOmitted): number {
  if (typeof time !== 'number') {
    omitted('wrong_type', set, name, time);
    return 0;
  }
  if (Number.isNaN(time) || (time > 0 && !(time < TIME_MS_END))) {
    omitted('out_of_range', set, name, time);
    return 0;
  }
  return time;
}

/** A short description of what came instead of a string, for the error message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
