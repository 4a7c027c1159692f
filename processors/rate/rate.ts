import { Observable, type OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import type { Counter } from '../../src/component/telemetry.js';
import { perNodeState, reportBatchErrors } from '../../src/component/operators.js';
import { RATE_OF_COUNTER, metricByName } from '../../src/model/catalogue.js';
import { LABEL } from '../../src/model/labels.js';
import type { LabeledValue, MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { owned } from '../../src/model/owned.js';
import { slotOf } from '../../src/model/set-values.js';

/** Why a rate was not emitted; the `reason` label of `heapstream_rate_skipped_total`. */
export type RateSkipReason =
  'no_sample_time' | 'not_later' | 'restarted' | 'gap_too_long' | 'counter_decreased';

const SKIP_REASONS: readonly RateSkipReason[] = [
  'no_sample_time',
  'not_later',
  'restarted',
  'gap_too_long',
  'counter_decreased',
];

interface CounterSpec {
  readonly counter: string;
  readonly rate: string;
  /** Slots of the counter and its rate in a set's values (-1 for labeled counters, which have none). */
  readonly counterSlot: number;
  readonly rateSlot: number;
  /** Multiplier turning (counter delta ÷ µs) into the rate's unit: ns → millicores is 1, per second is 1e6. */
  readonly perMicrosecond: number;
  /** Integer rates are truncated toward zero, like Heapster's int64 division. */
  readonly truncate: boolean;
}

function specOf(counter: string, rate: string): CounterSpec {
  const rateDesc = metricByName(rate);
  const counterDesc = metricByName(counter);
  const millicoresFromNs = rateDesc?.unit === 'millicores' && counterDesc?.unit === 'ns';
  return {
    counter,
    rate,
    counterSlot: slotOf(counter),
    rateSlot: slotOf(rate),
    perMicrosecond: millicoresFromNs ? 1 : 1e6,
    truncate: rateDesc?.valueType === 'int',
  };
}

// The counter lists come from the catalogue (`rateOf`), so a counter added there gets its rate here.
const PLAIN: readonly CounterSpec[] = [...RATE_OF_COUNTER]
  .filter(([, d]) => !d.labeled)
  .map(([counter, d]) => specOf(counter, d.name));
const LABELED: ReadonlyMap<string, CounterSpec> = new Map(
  [...RATE_OF_COUNTER].filter(([, d]) => d.labeled).map(([counter, d]) => [counter, specOf(counter, d.name)]),
);

interface LabeledCounters {
  readonly names: string[];
  readonly ids: string[];
  readonly values: number[];
}

// A series' row: its start and sample times, the node batch that last updated it, then its plain counters.
const START = 0;
const SCRAPE = 1;
const SEEN = 2;
const FIRST_COUNTER = 3;
const STRIDE = FIRST_COUNTER + PLAIN.length;
const INITIAL_ROWS = 64;

/**
 * One node's rate state: the last sample of each series as a row of doubles in one Float64Array (80 bytes per
 * series, plus its map entry), updated in place by each batch of the node. A steady cluster allocates no rate state
 * per cycle, and the state is a few large objects that the GC never has to trace, not one small object per series.
 */
class NodeSeries {
  /** set key → row. */
  readonly rows = new Map<string, number>();
  data = new Float64Array(INITIAL_ROWS * STRIDE);
  /** Labeled counters (disk I/O) by row; undefined for the many sets that have none. */
  readonly labeled: (LabeledCounters | undefined)[] = [];
  private readonly free: number[] = [];
  private used = 0;
  /** Batches seen, so that a row knows whether the latest batch had its series. */
  batches = 0;

  add(key: string): number {
    let row = this.free.pop();
    if (row === undefined) {
      row = this.used++;
      if (this.used * STRIDE > this.data.length) {
        const grown = new Float64Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
    }
    this.rows.set(key, row);
    return row;
  }

  /** Drops the series the latest batch did not have (a pod deleted, a container replaced). */
  sweep(seen: number): void {
    for (const [key, row] of this.rows) {
      if (this.data[row * STRIDE + SEEN] === seen) continue;
      this.rows.delete(key);
      this.labeled[row] = undefined;
      this.free.push(row);
    }
  }

  /** Makes the current sample the row's last one. */
  store(row: number, set: MetricSet, cur: CurrentSample, seen: number): void {
    const base = row * STRIDE;
    const data = this.data;
    data[base + START] = set.startTime;
    data[base + SCRAPE] = set.scrapeTime;
    data[base + SEEN] = seen;
    data.set(cur.plain, base + FIRST_COUNTER);
    const n = cur.labeled.names.length;
    if (n === 0) {
      this.labeled[row] = undefined;
      return;
    }
    const into = (this.labeled[row] ??= { names: [], ids: [], values: [] });
    into.names.length = n;
    into.ids.length = n;
    into.values.length = n;
    for (let j = 0; j < n; j++) {
      into.names[j] = cur.labeled.names[j] as string;
      into.ids[j] = cur.labeled.ids[j] as string;
      into.values[j] = cur.labeled.values[j] as number;
    }
  }
}

/** One set's counters, read into buffers reused for every set (the operator is synchronous). */
class CurrentSample {
  readonly plain = new Float64Array(PLAIN.length);
  readonly labeled: LabeledCounters = { names: [], ids: [], values: [] };
  /** Counters present: the number of rates a set-level skip costs. */
  count = 0;

  /** Reads the set's counters; false when it has none (such a set has no rate state). */
  read(set: MetricSet): boolean {
    let count = 0;
    for (let i = 0; i < PLAIN.length; i++) {
      const v = set.values.getAt((PLAIN[i] as CounterSpec).counterSlot);
      if (v === undefined) {
        this.plain[i] = NaN;
      } else {
        this.plain[i] = v;
        count++;
      }
    }
    const { names, ids, values } = this.labeled;
    names.length = 0;
    ids.length = 0;
    values.length = 0;
    if (LABELED.size > 0) {
      for (const lv of set.labeled) {
        if (!LABELED.has(lv.name)) continue;
        names.push(lv.name);
        ids.push(lv.labels[LABEL.resourceId] ?? '');
        values.push(lv.value);
      }
    }
    this.count = count + names.length;
    return this.count > 0;
  }
}

/** Index of (name, id) in prev, trying `hint` first: kubelets list a set's filesystems in the same order each time. */
function indexOf(prev: LabeledCounters, name: string, id: string, hint: number): number {
  if (prev.names[hint] === name && prev.ids[hint] === id) return hint;
  for (let j = 0; j < prev.names.length; j++) {
    if (prev.names[j] === name && prev.ids[j] === id) return j;
  }
  return -1;
}

function rateValue(spec: CounterSpec, delta: number, elapsedUs: number): number {
  const r = (delta * spec.perMicrosecond) / elapsedUs;
  return spec.truncate ? Math.trunc(r) : r;
}

/**
 * Rates of every cumulative counter of the catalogue, from the kubelet's own sample times. A rate is emitted only
 * for a strictly later sample of the same series with the same start time, a non-negative delta and a gap no
 * longer than `maxGapMs`; anything else restarts the series and is counted in `heapstream_rate_skipped_total`.
 *
 * @example
 * events$.pipe(rateOperator({ maxGapMs: 45_000 }, ctx))
 */
export function rateOperator(
  options: { readonly maxGapMs: number },
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  ctx.telemetry.describe(
    'heapstream_rate_skipped_total',
    'Rates not emitted, by reason (one per counter of a set whose sample could not give a rate).',
  );
  const skipped = new Map<RateSkipReason, Counter>(
    SKIP_REASONS.map((reason) => [
      reason,
      ctx.telemetry.counter('heapstream_rate_skipped_total', { processor: ctx.id, reason }),
    ]),
  );
  const count = (reason: RateSkipReason, n: number) => {
    if (n > 0) skipped.get(reason)?.inc(n);
  };
  const onError = reportBatchErrors(ctx);
  const maxGapUs = options.maxGapMs * 1000;
  // A node absent for longer than the gap can give no rate anyway: its state can go.
  const evictAfterCycles = Math.max(1, Math.ceil(options.maxGapMs / Math.max(1, ctx.resolutionMs)));

  /**
   * Adds the set's rates from the row's last sample to `cur`, in place: the set is this processor's until it
   * passes the batch on (docs/plugins.md), so no copy of the set or its values is made. Copying each set's values
   * to add its rates was a seventh of the pipeline's CPU.
   */
  function addRates(set: MetricSet, cur: CurrentSample, node: NodeSeries, row: number): void {
    let reason: RateSkipReason | undefined;
    const data = node.data;
    const base = row * STRIDE;
    const prevScrapeTime = data[base + SCRAPE] as number;
    // Sample times are ms with µs fractions: whole µs keep the division exact for integer results.
    const elapsedUs = Math.round((set.scrapeTime - prevScrapeTime) * 1000);
    if (set.scrapeTime === 0 || prevScrapeTime === 0) reason = 'no_sample_time';
    else if (elapsedUs <= 0) reason = 'not_later';
    else if (set.startTime !== data[base + START]) reason = 'restarted';
    else if (elapsedUs > maxGapUs) reason = 'gap_too_long';
    if (reason !== undefined) {
      count(reason, cur.count);
      return;
    }

    const target = owned(set);
    const values = target.values;
    let decreased = 0;
    for (let i = 0; i < PLAIN.length; i++) {
      const now = cur.plain[i] as number;
      const before = data[base + FIRST_COUNTER + i] as number;
      if (Number.isNaN(now) || Number.isNaN(before)) continue;
      const delta = now - before;
      if (delta < 0) {
        decreased++;
        continue;
      }
      const spec = PLAIN[i] as CounterSpec;
      values.setAt(spec.rateSlot, rateValue(spec, delta, elapsedUs));
    }

    const before = node.labeled[row];
    if (before !== undefined && cur.labeled.names.length > 0) {
      const { names, ids, values: now } = cur.labeled;
      const labeled = target.labeled;
      // Only the entries the kubelet gave: the rates appended below are not counters.
      const given = labeled.length;
      let j = 0;
      for (let k = 0; k < given; k++) {
        const lv = labeled[k] as LabeledValue;
        const spec = LABELED.get(lv.name);
        if (spec === undefined) continue;
        const at = indexOf(before, names[j] as string, ids[j] as string, j);
        const value = now[j] as number;
        j++;
        if (at < 0) continue;
        const delta = value - (before.values[at] as number);
        if (delta < 0) {
          decreased++;
          continue;
        }
        labeled.push({ name: spec.rate, labels: lv.labels, value: rateValue(spec, delta, elapsedUs) });
      }
    }
    count('counter_decreased', decreased);
  }

  const cur = new CurrentSample();

  /** Adds the batch's rates to its own sets and returns the same batch (see addRates). */
  function processBatch(batch: NodeBatch, node: NodeSeries): NodeBatch {
    const seen = ++node.batches;
    let kept = 0;
    const sets = batch.sets;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i] as MetricSet;
      if (!cur.read(set)) continue;
      let row = node.rows.get(set.key);
      if (row === undefined) {
        row = node.add(set.key);
        kept++;
        // A key twice in one batch (the decoder never emits one) gets its rates once; the last one is kept.
      } else if (node.data[row * STRIDE + SEEN] !== seen) {
        addRates(set, cur, node, row);
        kept++;
      }
      node.store(row, set, cur, seen);
    }
    if (node.rows.size > kept) node.sweep(seen);
    return batch;
  }

  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      // Kept across a config reload, so the first cycle after it still gets rates. Cycle numbers count resolution
      // periods, so state kept at another resolution would never be evicted: the resolution is part of the key.
      const nodes = ctx.keep(`rate max_gap=${options.maxGapMs} resolution=${ctx.resolutionMs}`, () =>
        perNodeState<NodeSeries>({ create: () => new NodeSeries(), evictAfterCycles }),
      );
      return source.subscribe({
        next(event) {
          if (event.kind === 'cycle_end') {
            nodes.endCycle(event.cycle);
            subscriber.next(event);
            return;
          }
          if (event.scope !== 'node') {
            subscriber.next(event);
            return;
          }
          let out: PipelineEvent = event;
          try {
            out = processBatch(event, nodes.get(event.node, event.cycle));
          } catch (error) {
            if (onError(error, event) === 'drop') return;
          }
          subscriber.next(out);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
