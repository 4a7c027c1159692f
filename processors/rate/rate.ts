import { Observable, type OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/engine/component.js';
import type { Counter } from '../../src/engine/telemetry.js';
import { perNodeState, reportBatchErrors } from '../../src/engine/operators.js';
import { RATE_OF_COUNTER, metricByName } from '../../src/model/catalogue.js';
import { LABEL } from '../../src/model/labels.js';
import type { LabeledValue, MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';

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

/** The last sample of one set: its times, its plain counters (NaN when absent) and labeled counters by id. */
interface SeriesSample {
  readonly startTime: number;
  readonly scrapeTime: number;
  readonly plain: Float64Array;
  /** counter name → resource_id → value; undefined when the set has no labeled counters. */
  readonly labeled: Map<string, Map<string, number>> | undefined;
}

interface NodeSeries {
  /** set key → last sample. Replaced by each batch of the node, so series that disappear are evicted. */
  samples: Map<string, SeriesSample>;
}

function sampleOf(set: MetricSet): SeriesSample | undefined {
  const plain = new Float64Array(PLAIN.length);
  let any = false;
  for (let i = 0; i < PLAIN.length; i++) {
    const v = set.values[(PLAIN[i] as CounterSpec).counter];
    if (v === undefined) {
      plain[i] = NaN;
    } else {
      plain[i] = v;
      any = true;
    }
  }
  let labeled: Map<string, Map<string, number>> | undefined;
  for (const lv of set.labeled) {
    if (!LABELED.has(lv.name)) continue;
    labeled ??= new Map();
    let byId = labeled.get(lv.name);
    if (byId === undefined) {
      byId = new Map();
      labeled.set(lv.name, byId);
    }
    byId.set(lv.labels[LABEL.resourceId] ?? '', lv.value);
  }
  if (!any && labeled === undefined) return undefined;
  return { startTime: set.startTime, scrapeTime: set.scrapeTime, plain, labeled };
}

function rateValue(spec: CounterSpec, delta: number, elapsedUs: number): number {
  const r = (delta * spec.perMicrosecond) / elapsedUs;
  return spec.truncate ? Math.trunc(r) : r;
}

/** Counts what a sample holds: the number of rates a set-level skip costs. */
function counterCount(sample: SeriesSample): number {
  let n = 0;
  for (let i = 0; i < sample.plain.length; i++) if (!Number.isNaN(sample.plain[i])) n++;
  if (sample.labeled !== undefined) for (const byId of sample.labeled.values()) n += byId.size;
  return n;
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
      ctx.telemetry.counter('heapstream_rate_skipped_total', { processor: ctx.name, reason }),
    ]),
  );
  const count = (reason: RateSkipReason, n: number) => {
    if (n > 0) skipped.get(reason)?.inc(n);
  };
  const onError = reportBatchErrors(ctx);
  const maxGapUs = options.maxGapMs * 1000;
  // A node absent for longer than the gap can give no rate anyway: its state can go.
  const evictAfterCycles = Math.max(1, Math.ceil(options.maxGapMs / Math.max(1, ctx.resolutionMs)));

  /** The set with its rates added, or the same set when it gets none. */
  function ratesOf(set: MetricSet, cur: SeriesSample, prev: SeriesSample): MetricSet {
    let reason: RateSkipReason | undefined;
    // Sample times are ms with µs fractions: whole µs keep the division exact for integer results.
    const elapsedUs = Math.round((cur.scrapeTime - prev.scrapeTime) * 1000);
    if (cur.scrapeTime === 0 || prev.scrapeTime === 0) reason = 'no_sample_time';
    else if (elapsedUs <= 0) reason = 'not_later';
    else if (cur.startTime !== prev.startTime) reason = 'restarted';
    else if (elapsedUs > maxGapUs) reason = 'gap_too_long';
    if (reason !== undefined) {
      count(reason, counterCount(cur));
      return set;
    }

    let values: Record<string, number> | undefined;
    let decreased = 0;
    for (let i = 0; i < PLAIN.length; i++) {
      const now = cur.plain[i] as number;
      const before = prev.plain[i] as number;
      if (Number.isNaN(now) || Number.isNaN(before)) continue;
      const delta = now - before;
      if (delta < 0) {
        decreased++;
        continue;
      }
      const spec = PLAIN[i] as CounterSpec;
      values ??= { ...set.values };
      values[spec.rate] = rateValue(spec, delta, elapsedUs);
    }

    let rates: LabeledValue[] | undefined;
    if (cur.labeled !== undefined && prev.labeled !== undefined) {
      for (const lv of set.labeled) {
        const spec = LABELED.get(lv.name);
        if (spec === undefined) continue;
        const before = prev.labeled.get(lv.name)?.get(lv.labels[LABEL.resourceId] ?? '');
        if (before === undefined) continue;
        const delta = lv.value - before;
        if (delta < 0) {
          decreased++;
          continue;
        }
        rates ??= [];
        rates.push({ name: spec.rate, labels: lv.labels, value: rateValue(spec, delta, elapsedUs) });
      }
    }
    count('counter_decreased', decreased);

    if (values === undefined && rates === undefined) return set;
    return {
      ...set,
      values: values ?? set.values,
      labeled: rates === undefined ? set.labeled : [...set.labeled, ...rates],
    };
  }

  function processBatch(batch: NodeBatch, node: NodeSeries): NodeBatch {
    const next = new Map<string, SeriesSample>();
    let out: MetricSet[] | undefined;
    const sets = batch.sets;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i] as MetricSet;
      const cur = sampleOf(set);
      if (cur === undefined) {
        out?.push(set);
        continue;
      }
      const prev = node.samples.get(set.key);
      next.set(set.key, cur);
      const result = prev === undefined ? set : ratesOf(set, cur, prev);
      if (result !== set) out ??= sets.slice(0, i);
      out?.push(result);
    }
    node.samples = next;
    return out === undefined ? batch : { ...batch, sets: out };
  }

  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      const nodes = perNodeState<NodeSeries>({ create: () => ({ samples: new Map() }), evictAfterCycles });
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
            onError(error, event);
          }
          subscriber.next(out);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
