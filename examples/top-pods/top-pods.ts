import { Observable, type OperatorFunction } from 'rxjs';
import type { MetricSet, NodeBatch, PipelineEvent } from '../../src/index.js';
import type { TopPodsConfig } from './config.js';

interface Ranked {
  readonly key: string;
  readonly value: number;
}

/** The keys of the pods to keep: the `top` highest by `metric` in each namespace, ties broken by key. */
function podsToKeep(batches: readonly NodeBatch[], config: TopPodsConfig): Set<string> {
  const byNamespace = new Map<string, Ranked[]>();
  for (const batch of batches) {
    for (const set of batch.sets) {
      if (set.type !== 'pod') continue;
      const namespace = set.labels.namespace_name ?? '';
      let pods = byNamespace.get(namespace);
      if (pods === undefined) {
        pods = [];
        byNamespace.set(namespace, pods);
      }
      pods.push({ key: set.key, value: set.values.get(config.metric) ?? -Infinity });
    }
  }
  const keep = new Set<string>();
  for (const pods of byNamespace.values()) {
    pods.sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (let i = 0; i < pods.length && i < config.top; i++) keep.add((pods[i] as Ranked).key);
  }
  return keep;
}

/** The pod key a container set belongs to (`namespace:ns/pod:p/container:c` → `namespace:ns/pod:p`). */
function podKeyOf(containerKey: string): string {
  return containerKey.slice(0, containerKey.lastIndexOf('/container:'));
}

function filterBatch(batch: NodeBatch, keep: ReadonlySet<string>, config: TopPodsConfig): NodeBatch {
  let kept: MetricSet[] | undefined;
  const sets = batch.sets;
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i] as MetricSet;
    const stays =
      set.type === 'pod'
        ? keep.has(set.key)
        : set.type === 'pod_container'
          ? config.keep_containers && keep.has(podKeyOf(set.key))
          : true;
    if (stays) kept?.push(set);
    else kept ??= sets.slice(0, i);
  }
  return kept === undefined ? batch : { ...batch, sets: kept };
}

/**
 * Keeps, per cycle, only the `top` busiest pods of each namespace by `metric`, across all nodes. Node batches of a
 * cycle are held until its end mark (ranking needs every node), then emitted filtered, in arrival order, before
 * the mark; other sets (nodes, system containers, aggregates) are kept, cluster batches pass at once.
 *
 * @example
 * source$.pipe(topPods(topPodsConfig.parse({ top: 3, metric: 'memory/working_set' })))
 */
export function topPods(config: TopPodsConfig): OperatorFunction<PipelineEvent, PipelineEvent> {
  return (source) =>
    new Observable<PipelineEvent>((subscriber) => {
      // This subscription's held batches, by cycle: a late batch of an older cycle is not mixed with a newer one.
      const held = new Map<number, NodeBatch[]>();

      const release = (upTo: number) => {
        const cycles = [...held.keys()].filter((c) => c <= upTo).sort((a, b) => a - b);
        for (const cycle of cycles) {
          const batches = held.get(cycle) as NodeBatch[];
          held.delete(cycle);
          const keep = podsToKeep(batches, config);
          for (const batch of batches) subscriber.next(filterBatch(batch, keep, config));
        }
      };

      return source.subscribe({
        next(event: PipelineEvent) {
          if (event.kind === 'cycle_end') {
            release(event.cycle);
            subscriber.next(event);
          } else if (event.scope === 'node') {
            const batches = held.get(event.cycle);
            if (batches === undefined) held.set(event.cycle, [event]);
            else batches.push(event);
          } else {
            subscriber.next(event);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        // Batches of a cycle whose mark never came are ranked among themselves rather than lost.
        complete() {
          release(Infinity);
          subscriber.complete();
        },
      });
    });
}
