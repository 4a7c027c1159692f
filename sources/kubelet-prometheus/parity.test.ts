/**
 * Users should get the same metric sets whichever kubelet endpoint they can reach. These tests decode the
 * Prometheus fixtures and hold them against what the Summary API source makes of captures from neighbouring
 * clusters (the same datagen workloads on Kubernetes 1.26 and 1.28; metrics-server's kind cluster), and
 * against themselves (a pod is about the sum of its containers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricByName } from '../../src/model/catalogue.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodeSummary } from '../kubelet-summary/decode.js';
import { decodePrometheusMetrics } from './decode.js';

const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, FIXTURES), 'utf8');

function summarySets(version: string): MetricSet[] {
  return decodeSummary(JSON.parse(read(`kubelet/${version}/stats-summary.json`)), { name: 'node' });
}

/** Set type → every metric name any set of that type carries. */
function namesByType(sets: readonly MetricSet[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const set of sets) {
    let names = out.get(set.type);
    if (names === undefined) out.set(set.type, (names = new Set()));
    for (const name of set.values.names()) names.add(name);
    for (const value of set.labeled) names.add(value.name);
  }
  return out;
}

/** The part of a key after `node:<name>` or as is, so sets from differently named nodes compare. */
function shape(key: string): string {
  return key.startsWith('node:') ? key.replace(/^node:[^/]+/, 'node:*') : key;
}

/** Pod key → its containers' sets. */
function containersByPod(sets: readonly MetricSet[]): Map<string, MetricSet[]> {
  const out = new Map<string, MetricSet[]>();
  for (const set of sets) {
    if (set.type !== 'pod_container') continue;
    const pod = set.key.slice(0, set.key.lastIndexOf('/container:'));
    out.set(pod, [...(out.get(pod) ?? []), set]);
  }
  return out;
}

/** Every catalogue value is an integer where the catalogue says int. */
function expectCatalogueTypes(sets: readonly MetricSet[]): void {
  for (const set of sets) {
    for (const [name, value] of set.values) {
      const descriptor = metricByName(name);
      expect(descriptor, name).toBeDefined();
      if (descriptor?.valueType === 'int') expect(Number.isInteger(value), `${set.key} ${name}`).toBe(true);
      expect(value, `${set.key} ${name}`).toBeGreaterThanOrEqual(0);
    }
  }
}

/** A pod's cgroup holds its containers: its cpu and memory are about their sum (samples differ by seconds). */
function expectPodsAboutTheirContainers(sets: readonly MetricSet[], metric: string): number {
  const pods = new Map(sets.filter((s) => s.type === 'pod').map((s) => [s.key, s]));
  let checked = 0;
  for (const [podKey, containers] of containersByPod(sets)) {
    const pod = pods.get(podKey);
    expect(pod, `pod set for ${podKey}`).toBeDefined();
    const sum = containers.reduce((total, c) => total + (c.values.get(metric) ?? 0), 0);
    const own = pod?.values.get(metric);
    if (own === undefined || sum < 1e8) continue;
    expect(own / sum, `${podKey} ${metric}`).toBeGreaterThan(0.9);
    expect(own / sum, `${podKey} ${metric}`).toBeLessThan(1.5);
    checked++;
  }
  return checked;
}

describe('/metrics/cadvisor (1.27) against the Summary API (1.26, 1.28)', () => {
  const prom = decodePrometheusMetrics(
    read('prometheus/nri-1.27-metrics-cadvisor.prom'),
    { name: 'node' },
    0,
  );
  const promNames = namesByType(prom);

  it.each(['nri-1.26', 'nri-1.28'])('makes the same set types and system containers as %s', (version) => {
    const summary = summarySets(version);
    expect([...promNames.keys()].sort()).toEqual([...namesByType(summary).keys()].sort());
    const systemKeys = (sets: readonly MetricSet[]) =>
      sets
        .filter((s) => s.type === 'sys_container')
        .map((s) => shape(s.key))
        .sort();
    expect(systemKeys(prom)).toEqual(systemKeys(summary));
  });

  it.each(['nri-1.26', 'nri-1.28'])(
    'carries every non-filesystem metric %s carries, per set type',
    (version) => {
      for (const [type, names] of namesByType(summarySets(version))) {
        const expected = [...names].filter(
          (n) => !n.startsWith('filesystem/') && !n.startsWith('ephemeral_storage/'),
        );
        const have = promNames.get(type) ?? new Set();
        expect(
          expected.filter((n) => !have.has(n)),
          type,
        ).toEqual([]);
      }
    },
  );

  it('names the pods and containers of stable workloads as the 1.28 summary does', () => {
    const summary = summarySets('nri-1.28');
    const pod = 'namespace:kube-system/pod:storage-provisioner';
    const containers = (sets: readonly MetricSet[]) =>
      sets
        .filter((s) => s.key.startsWith(pod + '/'))
        .map((s) => s.key)
        .sort();
    expect(containers(prom)).toEqual([`${pod}/container:storage-provisioner`]);
    expect(containers(prom)).toEqual(containers(summary));
    const a = prom.find((s) => s.key === pod)!;
    const b = summary.find((s) => s.key === pod)!;
    expect(a.type).toBe(b.type);
    // Same workload, another capture: the working set is of the same order of magnitude.
    const ratio = a.values.get('memory/working_set')! / b.values.get('memory/working_set')!;
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThan(5);
    // The control plane runs the same containers, in pods whose names carry the node name.
    const kubeSystem = (sets: readonly MetricSet[]) =>
      [
        ...new Set(
          sets
            .filter((s) => s.type === 'pod_container' && s.labels['namespace_name'] === 'kube-system')
            .map((s) => s.labels['container_name']),
        ),
      ].sort();
    expect(kubeSystem(prom)).toEqual(kubeSystem(summary));
    expect(kubeSystem(prom)).toContain('kube-apiserver');
  });

  it('gives plausible values: integer catalogue values, pods ≈ their containers, node ≥ pods', () => {
    expectCatalogueTypes(prom);
    expect(expectPodsAboutTheirContainers(prom, 'cpu/usage')).toBeGreaterThanOrEqual(5);
    expect(expectPodsAboutTheirContainers(prom, 'memory/working_set')).toBeGreaterThanOrEqual(0);
    const node = prom.find((s) => s.type === 'node')!;
    const pods = prom.filter((s) => s.type === 'pod');
    const podCpu = pods.reduce((total, p) => total + (p.values.get('cpu/usage') ?? 0), 0);
    expect(node.values.get('cpu/usage')).toBeGreaterThan(podCpu);
    expect(node.values.get('memory/working_set')).toBeLessThanOrEqual(node.values.get('memory/usage')!);
    for (const set of prom) {
      if (
        set.values.get('memory/working_set') !== undefined &&
        set.values.get('memory/usage') !== undefined
      ) {
        expect(set.values.get('memory/working_set'), set.key).toBeLessThanOrEqual(
          set.values.get('memory/usage')!,
        );
      }
      expect(set.scrapeTime, set.key).toBeGreaterThan(Date.UTC(2023, 0, 1));
    }
  });
});

describe('/metrics/resource against the same pods and the Summary API', () => {
  const prom = decodePrometheusMetrics(
    read('prometheus/metrics-server-metrics-resource.prom'),
    { name: 'node' },
    0,
  );

  it('makes node, pod and pod_container sets whose metrics the Summary API source also makes', () => {
    const summary = namesByType(summarySets('metrics-server-kind'));
    const names = namesByType(prom);
    expect([...names.keys()].sort()).toEqual(['node', 'pod', 'pod_container']);
    for (const [type, have] of names) {
      expect([...have].sort(), type).toEqual(['cpu/usage', 'memory/working_set']);
      for (const name of have) expect(summary.get(type)?.has(name), `${type} ${name}`).toBe(true);
    }
  });

  it('gives every container its pod set, and pods about the sum of their containers', () => {
    expectCatalogueTypes(prom);
    expect(expectPodsAboutTheirContainers(prom, 'cpu/usage')).toBeGreaterThanOrEqual(60);
    expect(expectPodsAboutTheirContainers(prom, 'memory/working_set')).toBeGreaterThanOrEqual(0);
    const node = prom.find((s) => s.type === 'node')!;
    const podMemory = prom
      .filter((s) => s.type === 'pod')
      .reduce((total, p) => total + (p.values.get('memory/working_set') ?? 0), 0);
    expect(node.values.get('memory/working_set')).toBeGreaterThan(podMemory);
  });
});
