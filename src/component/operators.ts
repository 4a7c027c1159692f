import { Observable, type OperatorFunction } from 'rxjs';
import type { MetricBatch, MetricSet, PipelineEvent } from '../model/types.js';
import type { ComponentContext } from './component.js';

/** What a processor does with one batch it could not process: the batch is passed on untouched. */
/** What becomes of a batch a processor failed on: passed on as the processor left it, or dropped. */
export type ErrorAction = 'pass' | 'drop';

/** Handles a failure on one batch; returns `drop` to drop it, anything else passes it on as the processor left it. */
export type BatchErrorHandler = (error: unknown, batch: MetricBatch) => ErrorAction | void;

/**
 * Applies `fn` to every batch and passes cycle marks through untouched. When `fn` returns the batch it was
 * given, the same object goes on (no copy). When `onError` is given, a batch that makes `fn` throw is passed on
 * unchanged and reported, so that bad data never ends the stream; without it the error ends the stream.
 *
 * @example
 * const dropKubeSystem = mapBatches((b) => ({ ...b, sets: b.sets.filter((s) => s.labels.namespace_name !== 'kube-system') }));
 */
export function mapBatches(
  fn: (batch: MetricBatch) => MetricBatch,
  onError?: BatchErrorHandler,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  return (source) =>
    new Observable<PipelineEvent>((subscriber) =>
      source.subscribe({
        next(event) {
          if (event.kind !== 'batch') {
            subscriber.next(event);
            return;
          }
          let out: MetricBatch;
          try {
            out = fn(event);
          } catch (error) {
            if (onError === undefined) {
              subscriber.error(error);
              return;
            }
            if (onError(error, event) === 'drop') return;
            out = event;
          }
          subscriber.next(out);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * Keeps only the sets for which `keep` is true, in every batch; marks pass through. A batch in which every set
 * is kept goes on as the same object; a batch left without sets still goes on (it says the node answered).
 *
 * @example
 * const podsOnly = filterSets((set) => set.type === 'pod');
 */
export function filterSets(
  keep: (set: MetricSet, batch: MetricBatch) => boolean,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  return mapBatches((batch) => {
    let kept: MetricSet[] | undefined;
    const sets = batch.sets;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i] as MetricSet;
      if (keep(set, batch)) {
        kept?.push(set);
      } else if (kept === undefined) {
        kept = sets.slice(0, i);
      }
    }
    return kept === undefined ? batch : { ...batch, sets: kept };
  });
}

/**
 * A processor's error handler: logs the failure with the batch's node and cycle, counts it in
 * `heapstream_processor_errors_total{processor}`, and has `mapBatches` pass the batch on untouched or drop it, as
 * the entry's `on_error` (`ctx.onError`) says.
 *
 * @example
 * mapBatches(enrich, reportBatchErrors(ctx))
 */
export function reportBatchErrors(ctx: ComponentContext): BatchErrorHandler {
  const errors = ctx.telemetry.counter('heapstream_processor_errors_total', { processor: ctx.id });
  const action: ErrorAction = ctx.onError ?? 'pass';
  return (error, batch) => {
    errors.inc();
    ctx.logger.error(
      { err: error, node: batch.scope === 'node' ? batch.node : undefined, cycle: batch.cycle },
      `processor ${ctx.id}: batch ${action === 'pass' ? 'passed on unprocessed' : 'dropped'}`,
    );
    return action;
  };
}

/**
 * Builds an operator whose state is created per subscription (never per factory or module), so two pipelines,
 * or a resubscription after an error, never share it.
 *
 * @example
 * const counting = statefulOperator(() => ({ seen: 0 }), (state) => mapBatches((b) => { state.seen++; return b; }));
 */
export function statefulOperator<S, I, O>(
  init: () => S,
  build: (state: S) => OperatorFunction<I, O>,
): OperatorFunction<I, O> {
  return (source) => new Observable<O>((subscriber) => build(init())(source).subscribe(subscriber));
}

/** Options of `perNodeState`. */
export interface PerNodeStateOptions<S> {
  /** Creates the state of a node seen for the first time (or again after eviction). */
  readonly create: (node: string) => S;
  /** A node whose state was not touched for more than this many cycles is forgotten at the next `endCycle`. */
  readonly evictAfterCycles: number;
  /** Called with each evicted node's state, e.g. to count what was dropped. */
  readonly onEvict?: (node: string, state: S) => void;
}

/**
 * State kept per node, forgotten once a node has been absent for a number of cycles, so that memory follows the
 * nodes that exist rather than every node that ever existed. Create it inside a subscription (see
 * `statefulOperator`); call `get` for each node batch and `endCycle` on each cycle mark.
 */
export class PerNodeState<S> {
  private readonly entries = new Map<string, { state: S; lastCycle: number }>();

  constructor(private readonly options: PerNodeStateOptions<S>) {}

  /** The node's state, created on first use; marks the node as seen in `cycle`. */
  get(node: string, cycle: number): S {
    let entry = this.entries.get(node);
    if (entry === undefined) {
      entry = { state: this.options.create(node), lastCycle: cycle };
      this.entries.set(node, entry);
    } else if (cycle > entry.lastCycle) {
      entry.lastCycle = cycle;
    }
    return entry.state;
  }

  /** The node's state if it has one, without creating or touching it. */
  peek(node: string): S | undefined {
    return this.entries.get(node)?.state;
  }

  /** Forgets every node not seen in the last `evictAfterCycles` cycles up to `cycle`; returns how many. */
  endCycle(cycle: number): number {
    let evicted = 0;
    for (const [node, entry] of this.entries) {
      if (cycle - entry.lastCycle > this.options.evictAfterCycles) {
        this.entries.delete(node);
        this.options.onEvict?.(node, entry.state);
        evicted++;
      }
    }
    return evicted;
  }

  /** How many nodes have state. */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Creates a `PerNodeState`: state per node, evicted when a node is absent for `evictAfterCycles` cycles.
 *
 * @example
 * const nodes = perNodeState({ create: () => new Map<string, number>(), evictAfterCycles: 3 });
 * nodes.get('node-a', 12).set('x', 1); nodes.endCycle(16); // node-a forgotten
 */
export function perNodeState<S>(options: PerNodeStateOptions<S>): PerNodeState<S> {
  return new PerNodeState(options);
}
