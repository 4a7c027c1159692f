/**
 * Every known difference between Heapster's output and heapstream's for the same inputs, each a named rule with
 * its reason and a precise test of the points it covers. A difference no rule covers fails the parity test.
 */
import type { GoldenFixture } from './golden-fixtures.js';
import type { Point } from './points.js';

/** A tag one side writes and the other never does; it is taken off that side's points before they are keyed. */
export interface TagRule {
  readonly name: string;
  readonly side: 'heapster' | 'heapstream';
  readonly tags: readonly string[];
  readonly reason: string;
  /** Which points of that side may carry the tags; on any other point they stay and the point fails to match. */
  readonly appliesTo: (point: Point, fixture: GoldenFixture) => boolean;
}

export type DifferenceKind = 'value' | 'only-heapster' | 'only-heapstream';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly key: string;
  readonly heapster?: Point;
  readonly heapstream?: Point;
}

export interface RuleContext {
  readonly fixture: GoldenFixture;
  /** heapstream's points of the fixture's compared cycle, by key (after tag rules). */
  readonly heapstream: ReadonlyMap<string, Point>;
  readonly heapster: ReadonlyMap<string, Point>;
}

export interface DifferenceRule {
  readonly name: string;
  readonly kind: DifferenceKind;
  readonly reason: string;
  readonly explains: (difference: Difference, ctx: RuleContext) => boolean;
}

interface PodObject {
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: { containers?: { name?: string }[] };
  status?: { containerStatuses?: { name?: string; restartCount?: number }[] };
}

function podObject(fixture: GoldenFixture, namespace: string, name: string): PodObject | undefined {
  return (fixture.pods as readonly PodObject[]).find(
    (p) => p.metadata?.namespace === namespace && p.metadata.name === name,
  );
}

/**
 * Whether kind/name is the pod's workload: its controller as it is, or the Deployment of its ReplicaSet
 * (`<deployment>-<hash>`), or the CronJob of its Job (`<cronjob>-<minutes>`).
 */
function isPodWorkload(
  fixture: GoldenFixture,
  namespace: string | undefined,
  pod: string | undefined,
  kind: string | undefined,
  name: string | undefined,
): boolean {
  if (namespace === undefined || pod === undefined || kind === undefined || name === undefined) return false;
  const refs = podObject(fixture, namespace, pod)?.metadata?.ownerReferences ?? [];
  const controller = refs.find((r) => r.controller === true) ?? refs[0];
  if (controller?.name === undefined) return false;
  if (controller.kind === kind && controller.name === name) return true;
  const parent = controller.kind === 'ReplicaSet' ? 'Deployment' : controller.kind === 'Job' ? 'CronJob' : '';
  return parent === kind && controller.name.startsWith(name + '-');
}

export const TAG_RULES: readonly TagRule[] = [
  {
    name: 'workload-labels',
    side: 'heapstream',
    tags: ['workload_kind', 'workload_name'],
    reason:
      "pod_enricher's workload_labels (default true) adds the pod's owning workload (ReplicaSet resolved to " +
      "Deployment, Job to CronJob); Heapster never had these labels. They are checked against the pod's " +
      'controller in pods.json, then removed before comparing.',
    appliesTo: (p, f) =>
      (p.tags['type'] === 'pod' || p.tags['type'] === 'pod_container') &&
      isPodWorkload(
        f,
        p.tags['namespace_name'],
        p.tags['pod_name'],
        p.tags['workload_kind'],
        p.tags['workload_name'],
      ),
  },
  {
    name: 'legacy-schedulable-tag',
    side: 'heapster',
    tags: ['schedulable'],
    reason:
      "Heapster's legacy `kubernetes` source tagged node sets schedulable=true|false from the Node object; " +
      "heapstream's kubelet_cadvisor decoder reads no Node objects and leaves the label out (its README says so).",
    // The served Node had no spec.unschedulable.
    appliesTo: (p, f) => f.api === 'legacy' && p.tags['type'] === 'node' && p.tags['schedulable'] === 'true',
  },
];

const AGGREGATE_COVERAGE = new Set(['nodes_reporting', 'nodes_expected']);

/** Heapster's manager scraped (and decoded) 5 s after the end of each window (golden README, "Cycle timing"). */
const HEAPSTER_SCRAPE_OFFSET_MS = 5_000;

/** Containers that only the pod's status lists (no spec entry), with Go's zero default for restartCount. */
function statusOnlyRestarts(fixture: GoldenFixture, namespace: string, pod: string): Map<string, number> {
  const found = podObject(fixture, namespace, pod);
  const specNames = new Set((found?.spec?.containers ?? []).map((c) => c.name));
  const restarts = new Map<string, number>();
  for (const s of found?.status?.containerStatuses ?? []) {
    if (s.name !== undefined && !specNames.has(s.name)) restarts.set(s.name, s.restartCount ?? 0);
  }
  return restarts;
}

export const DIFFERENCE_RULES: readonly DifferenceRule[] = [
  {
    name: 'uptime-kubelet-clock',
    kind: 'value',
    reason:
      'Heapster computed uptime as time.Since(start) with its own wall clock when it decoded the payload (the ' +
      "2026 capture), heapstream as the kubelet's sample time minus start (DESIGN: sample time comes from the " +
      "kubelet, never the local clock). Checked: heapstream's sample time plus the difference gives back Heapster's " +
      'clock, the scrape 5 s after the window end (within 100 ms), for every uptime point.',
    explains: (d, ctx) => {
      const theirs = d.heapster;
      const ours = d.heapstream;
      if (theirs?.measurement !== 'uptime' || ours?.sampleTime === undefined) return false;
      if (!theirs.int || !ours.int) return false;
      const heapsterClock = ours.sampleTime + (theirs.value - ours.value);
      const afterWindowEnd = heapsterClock - ctx.fixture.comparedWindowEndMs;
      return afterWindowEnd >= HEAPSTER_SCRAPE_OFFSET_MS && afterWindowEnd < HEAPSTER_SCRAPE_OFFSET_MS + 100;
    },
  },
  {
    name: 'no-utilization-without-usage-rate',
    kind: 'only-heapster',
    reason:
      "Heapster's node autoscaling enricher read a missing cpu/usage_rate (a single payload scraped again gives " +
      "no rate) as 0 and wrote cpu/node_utilization=0; heapstream's node_enricher leaves utilization out until " +
      'the usage is known (node_enricher README, "No utilization without a usage").',
    explains: (d, ctx) => {
      const p = d.heapster;
      if (p?.measurement !== 'cpu/node_utilization' || p.tags['type'] !== 'node' || p.value !== 0)
        return false;
      for (const q of ctx.heapstream.values()) {
        if (q.measurement === 'cpu/usage_rate' && q.tags['type'] === 'node') return false;
      }
      return true;
    },
  },
  {
    name: 'restart-count-from-status-only',
    kind: 'only-heapster',
    reason:
      "Heapster's pod_based_enricher took restart_count from every status.containerStatuses entry, even one whose " +
      "container is missing from spec.containers (otel-minikube's hand-made pods.json), and the pod aggregator " +
      "summed it into the pod; heapstream's pod_enricher attaches restart counts to spec containers only. Real " +
      'API servers always list the spec containers, so only hand-made pod lists show this.',
    explains: (d, ctx) => {
      const p = d.heapster;
      if (p?.measurement !== 'restart_count') return false;
      const ns = p.tags['namespace_name'];
      const pod = p.tags['pod_name'];
      if (ns === undefined || pod === undefined) return false;
      const restarts = statusOnlyRestarts(ctx.fixture, ns, pod);
      if (p.tags['type'] === 'pod_container') {
        return restarts.get(p.tags['container_name'] ?? '') === p.value;
      }
      if (p.tags['type'] !== 'pod' || restarts.size === 0) return false;
      let sum = 0;
      for (const r of restarts.values()) sum += r;
      return sum === p.value;
    },
  },
  {
    name: 'aggregate-coverage',
    kind: 'only-heapstream',
    reason:
      'heapstream writes nodes_reporting and nodes_expected on every namespace and cluster set, so that a ' +
      'partial cycle (a node that failed) is told apart from a small sum; Heapster had no such values. One node ' +
      'here, so both are 1.',
    explains: (d) => {
      const p = d.heapstream;
      const type = p?.tags['type'];
      return (
        p !== undefined &&
        AGGREGATE_COVERAGE.has(p.measurement) &&
        (type === 'ns' || type === 'cluster') &&
        p.int &&
        p.value === 1
      );
    },
  },
];
