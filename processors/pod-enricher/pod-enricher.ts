import type { OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import { mapBatches, reportBatchErrors, statefulOperator } from '../../src/component/operators.js';
import type { ContainerSpecMeta, PodMeta } from '../../src/component/metadata.js';
import { podContainerKey, podKey } from '../../src/model/keys.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../../src/model/types.js';
import { LabelCopier } from '../../src/component/label-copier.js';
import { copyRecord } from '../../src/model/copy.js';
import { owned } from '../../src/model/owned.js';
import { SetValues } from '../../src/model/set-values.js';

export interface PodEnricherOptions {
  readonly labelSeparator: string;
  readonly storeLabels: readonly string[];
  readonly ignoreLabels: readonly string[];
  readonly stubSets: boolean;
  readonly workloadLabels: boolean;
}

/** Kubernetes resource names whose requests and limits Heapster always reported (0 when unset). */
const CORE_RESOURCES: readonly (readonly [string, string])[] = [
  ['cpu', 'cpu'],
  ['memory', 'memory'],
  ['ephemeral-storage', 'ephemeral_storage'],
];
const CORE_METRIC_PREFIX: ReadonlyMap<string, string> = new Map(CORE_RESOURCES);

/** What one version of a pod adds to its sets, computed once per PodMeta object and owner. */
interface PodInfo {
  /**
   * The owner this was built with: the metadata cache resolves a pod's owner again, in place, when a ReplicaSet
   * or Job arrives or changes, so the pod object alone does not say that the workload labels are current.
   */
  readonly owner: PodMeta['owner'];
  readonly labels: Labels;
  /** The same labels as pairs, to add to a copy of a set's labels (see `plus`). */
  readonly labelPairs: readonly (readonly [string, string])[];
  readonly containers: ReadonlyMap<string, ContainerInfo>;
}

interface ContainerInfo {
  readonly spec: ContainerSpecMeta;
  /** Requests and limits as metric values. */
  readonly values: Readonly<Record<string, number>>;
  /** The values of a container present in the batch: requests, limits and its restart count, as pairs. */
  readonly withRestarts: readonly (readonly [string, number])[];
}

/**
 * A copy of `own` with `added` set on it. One spread copies an object of a known shape at once; spreading a
 * second object would add its keys one at a time through the generic path.
 */
function plus<V>(
  own: Readonly<Record<string, V>>,
  added: readonly (readonly [string, V])[],
): Record<string, V> {
  const out = copyRecord(own);
  for (let i = 0; i < added.length; i++) {
    const [key, value] = added[i] as readonly [string, V];
    out[key] = value;
  }
  return out;
}

/** The labels a stub copies from the set it was created for. */
const NODE_LABELS = [LABEL.nodename, LABEL.hostname, LABEL.hostId] as const;

function resourceValues(spec: ContainerSpecMeta): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [, metric] of CORE_RESOURCES) {
    values[metric + '/request'] = 0;
    values[metric + '/limit'] = 0;
  }
  for (const [resource, quantity] of Object.entries(spec.requests)) {
    values[(CORE_METRIC_PREFIX.get(resource) ?? resource) + '/request'] = quantity;
  }
  for (const [resource, quantity] of Object.entries(spec.limits)) {
    values[(CORE_METRIC_PREFIX.get(resource) ?? resource) + '/limit'] = quantity;
  }
  return values;
}

interface PodGroup {
  readonly pod: PodMeta;
  readonly info: PodInfo;
  /** The batch's pod set, or the first container set when the pod has none: where stubs take node labels from. */
  labelSource: MetricSet;
  hasPodSet: boolean;
  readonly containersPresent: Set<string>;
}

/**
 * Adds what the API server knows about each pod to its pod and container sets: requests and limits, restart
 * counts, image, pod uid, pod labels and owning workload; creates Heapster's stub sets (see README).
 *
 * @example
 * events$.pipe(podEnricherOperator({ labelSeparator: ',', storeLabels: ['app'], ignoreLabels: [], stubSets: true, workloadLabels: true }, ctx))
 */
export function podEnricherOperator(
  options: PodEnricherOptions,
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const onError = reportBatchErrors(ctx);
  return statefulOperator(
    () => ({
      copier: new LabelCopier({
        separator: options.labelSeparator,
        storeLabels: options.storeLabels,
        ignoreLabels: options.ignoreLabels,
      }),
      infos: new WeakMap<PodMeta, PodInfo>(),
    }),
    ({ copier, infos }) => {
      function infoOf(pod: PodMeta): PodInfo {
        let info = infos.get(pod);
        if (info !== undefined && info.owner === pod.owner) return info;
        const labels: Record<string, string> = { [LABEL.podId]: pod.uid, ...copier.labelsFor(pod.labels) };
        if (options.workloadLabels && pod.owner !== undefined) {
          labels[LABEL.workloadKind] = pod.owner.kind;
          labels[LABEL.workloadName] = pod.owner.name;
        }
        const containers = new Map<string, ContainerInfo>();
        for (const spec of pod.containers) {
          const values = resourceValues(spec);
          const restarts = pod.restartCounts[spec.name];
          containers.set(spec.name, {
            spec,
            values,
            withRestarts: Object.entries(
              restarts === undefined ? values : { ...values, restart_count: restarts },
            ),
          });
        }
        info = { owner: pod.owner, labels, labelPairs: Object.entries(labels), containers };
        infos.set(pod, info);
        return info;
      }

      function lookup(set: MetricSet): PodMeta | undefined {
        const ns = set.labels[LABEL.namespaceName];
        const name = set.labels[LABEL.podName];
        if (ns === undefined || name === undefined) return undefined;
        const pod = ctx.metadata.pod(ns, name);
        // A pod deleted and recreated under the same name: the cache's pod is not the one that was scraped.
        const scrapedUid = set.labels[LABEL.podId];
        if (pod === undefined || (scrapedUid !== undefined && scrapedUid !== pod.uid)) return undefined;
        return pod;
      }

      function enrichContainer(set: MetricSet, group: PodGroup): MetricSet {
        const container = group.info.containers.get(set.labels[LABEL.containerName] ?? '');
        // In place: the set is this processor's until it passes the batch on (docs/plugins.md).
        const target = owned(set);
        const labels = plus(set.labels, group.info.labelPairs);
        if (
          container !== undefined &&
          labels[LABEL.containerBaseImage] === undefined &&
          container.spec.image
        ) {
          labels[LABEL.containerBaseImage] = container.spec.image;
        }
        target.labels = labels;
        if (container !== undefined) {
          for (const [name, value] of container.withRestarts) target.values.set(name, value);
        }
        return set;
      }

      function enrichPod(set: MetricSet, group: PodGroup): MetricSet {
        owned(set).labels = plus(set.labels, group.info.labelPairs);
        return set;
      }

      function stubPod(group: PodGroup): MetricSet {
        const { pod } = group;
        return {
          type: 'pod',
          key: podKey(pod.namespace, pod.name),
          labels: {
            [LABEL.type]: 'pod',
            [LABEL.namespaceName]: pod.namespace,
            [LABEL.podName]: pod.name,
            ...pickNodeLabels(group.labelSource.labels),
            ...group.info.labels,
          },
          values: new SetValues(),
          labeled: [],
          scrapeTime: 0,
          startTime: pod.startTime ?? 0,
        };
      }

      function stubContainer(group: PodGroup, container: ContainerInfo): MetricSet {
        const { pod } = group;
        const labels: Record<string, string> = {
          [LABEL.type]: 'pod_container',
          [LABEL.namespaceName]: pod.namespace,
          [LABEL.podName]: pod.name,
          [LABEL.containerName]: container.spec.name,
          ...pickNodeLabels(group.labelSource.labels),
          ...group.info.labels,
        };
        if (container.spec.image) labels[LABEL.containerBaseImage] = container.spec.image;
        return {
          type: 'pod_container',
          key: podContainerKey(pod.namespace, pod.name, container.spec.name),
          labels,
          // A copy: `container.values` is kept across cycles, and the set's values are the next stage's to fill.
          values: SetValues.from(container.values),
          labeled: [],
          scrapeTime: 0,
          startTime: 0,
        };
      }

      function enrich(batch: MetricBatch): MetricBatch {
        // One pass to find the batch's pods (one metadata lookup per pod), one to build the output.
        const groups = new Map<string, PodGroup | null>();
        const groupOf = new Array<PodGroup | null>(batch.sets.length).fill(null);
        let any = false;
        batch.sets.forEach((set, i) => {
          if (set.type !== 'pod' && set.type !== 'pod_container') return;
          const ns = set.labels[LABEL.namespaceName];
          const name = set.labels[LABEL.podName];
          if (ns === undefined || name === undefined) return;
          const key = set.type === 'pod' ? set.key : podKey(ns, name);
          let group = groups.get(key);
          if (group === undefined) {
            const pod = lookup(set);
            group =
              pod === undefined
                ? null
                : {
                    pod,
                    info: infoOf(pod),
                    labelSource: set,
                    hasPodSet: false,
                    containersPresent: new Set(),
                  };
            groups.set(key, group);
          }
          if (group === null) return;
          any = true;
          groupOf[i] = group;
          if (set.type === 'pod') {
            group.hasPodSet = true;
            group.labelSource = set;
          } else {
            group.containersPresent.add(set.labels[LABEL.containerName] ?? '');
          }
        });
        if (!any) return batch;

        const sets: MetricSet[] = [];
        batch.sets.forEach((set, i) => {
          const group = groupOf[i];
          if (group === null || group === undefined) sets.push(set);
          else if (set.type === 'pod') sets.push(enrichPod(set, group));
          else sets.push(enrichContainer(set, group));
        });
        if (options.stubSets) {
          for (const group of groups.values()) {
            if (group === null) continue;
            if (!group.hasPodSet) sets.push(stubPod(group));
            for (const container of group.info.containers.values()) {
              if (!group.containersPresent.has(container.spec.name))
                sets.push(stubContainer(group, container));
            }
          }
        }
        return { ...batch, sets };
      }

      return mapBatches(enrich, onError);
    },
  );
}

function pickNodeLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of NODE_LABELS) {
    const value = labels[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
