import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import type { NodeBatch } from '../../src/model/types.js';
import { LatestPointsStore, type NodeEntry } from './store.js';

// The expectations follow metrics-server's pkg/storage (node.go, pod.go `Store` and `GetMetrics`, types.go
// `resourceUsage`) and pkg/scraper/client/resource/decode.go; each test says which rule it checks.

const FIXTURES = new URL('../../../shared/fixtures/kubelet/', import.meta.url);

interface Stats {
  time?: string;
  usageCoreNanoSeconds?: number;
  workingSetBytes?: number;
}
interface Container {
  name: string;
  startTime: string;
  cpu: Stats;
  memory: Stats;
}
interface Pod {
  podRef: { name: string; namespace: string };
  containers?: Container[];
}
interface Summary {
  node: { nodeName: string; startTime: string; cpu: Stats; memory: Stats };
  pods: Pod[];
}

function load(name: string): Summary {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Summary;
}

const FIRST = load('otel-minikube/stats-summary.json');
const SECOND = load('otel-minikube/stats-summary-second-scrape.json');
const RESOLUTION = 15_000;

function batch(summary: Summary, cycle: number, tickTime: number): NodeBatch {
  return {
    kind: 'batch',
    scope: 'node',
    node: 'minikube',
    cycle,
    timestamp: tickTime,
    sets: decodeSummary(structuredClone(summary), { name: 'minikube' }),
  };
}

/** What resourceUsage computes from two raw kubelet points: ΔCPU ns ÷ window seconds, truncated (uint64). */
function expectedNanocores(before: Stats, after: Stats): number {
  const seconds = (Date.parse(after.time as string) - Date.parse(before.time as string)) / 1000;
  return Math.trunc(
    ((after.usageCoreNanoSeconds as number) - (before.usageCoreNanoSeconds as number)) / seconds,
  );
}

function podIndex(entry: NodeEntry, namespace: string, name: string): number {
  for (let p = 0; p < entry.podCount; p++) {
    if (entry.podNames[p] === name && entry.podNamespaces[p] === namespace) return p;
  }
  return -1;
}

function storeAt(now: { t: number }) {
  return new LatestPointsStore({ resolutionMs: RESOLUTION, now: () => now.t });
}

describe('LatestPointsStore', () => {
  it('serves no usage after the first scrape, and the rate between two scrapes after the second', () => {
    const now = { t: 100_000 };
    const store = storeAt(now);
    store.write(batch(FIRST, 1, 90_000));
    store.endCycle();
    const first = store.entry('minikube') as NodeEntry;
    expect(first.nodeUsage()).toBeUndefined();
    expect([...Array(first.podCount).keys()].some((p) => first.podServable(p))).toBe(false);
    // metrics-server's storage is not ready before it has two points (storage.go `Ready`).
    expect(store.ready()).toBe(false);

    store.write(batch(SECOND, 2, 105_000));
    store.endCycle();
    const entry = store.entry('minikube') as NodeEntry;
    const node = entry.nodeUsage();
    expect(node?.nanocores).toBe(expectedNanocores(FIRST.node.cpu, SECOND.node.cpu));
    expect(node?.memoryBytes).toBe(SECOND.node.memory.workingSetBytes);
    expect(node?.timestamp).toBe(Date.parse(SECOND.node.cpu.time as string));
    expect(node?.windowUs).toBe(
      (Date.parse(SECOND.node.cpu.time as string) - Date.parse(FIRST.node.cpu.time as string)) * 1000,
    );
    expect(store.ready()).toBe(true);
  });

  it('gives each container ΔCPU ÷ Δt of its own sample times and its working set', () => {
    const now = { t: 100_000 };
    const store = storeAt(now);
    store.write(batch(FIRST, 1, 90_000));
    store.write(batch(SECOND, 2, 100_000));
    const entry = store.entry('minikube') as NodeEntry;
    let checked = 0;
    for (const pod of SECOND.pods) {
      const before = FIRST.pods.find((p) => p.podRef.name === pod.podRef.name);
      const p = podIndex(entry, pod.podRef.namespace, pod.podRef.name);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(entry.podServable(p)).toBe(true);
      for (const container of pod.containers ?? []) {
        const prior = before?.containers?.find((c) => c.name === container.name) as Container;
        const c = entry.containerNames.indexOf(container.name, entry.podStart(p));
        const usage = entry.containerUsage(c);
        expect(usage.nanocores).toBe(expectedNanocores(prior.cpu, container.cpu));
        expect(usage.memoryBytes).toBe(container.memory.workingSetBytes);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it("reports a pod's window from its container with the earliest sample (pod.go earliestTimeInfo)", () => {
    const withSidecar = (summary: Summary, shiftSeconds: number): Summary => {
      const copy = structuredClone(summary);
      const pod = copy.pods[0] as Pod;
      const app = (pod.containers as Container[])[0] as Container;
      const sidecar = structuredClone(app);
      sidecar.name = 'sidecar';
      sidecar.cpu.time = new Date(Date.parse(app.cpu.time as string) - shiftSeconds * 1000).toISOString();
      (pod.containers as Container[]).push(sidecar);
      return copy;
    };
    const store = storeAt({ t: 100_000 });
    store.write(batch(withSidecar(FIRST, 0.5), 1, 85_000));
    store.write(batch(withSidecar(SECOND, 1), 2, 100_000));
    const entry = store.entry('minikube') as NodeEntry;
    const pod = FIRST.pods[0] as Pod;
    const p = podIndex(entry, pod.podRef.namespace, pod.podRef.name);
    expect(entry.podEnd(p) - entry.podStart(p)).toBe(2);
    const earliest = entry.containerUsage(entry.podTimeContainer(p));
    expect(entry.containerNames[entry.podTimeContainer(p)]).toBe('sidecar');
    // The sidecar's samples: 0.5 s and 1 s before the app's, so its window is 0.5 s shorter.
    expect(entry.podServable(p)).toBe(true);
    const app = entry.containerUsage(entry.podStart(p));
    expect(earliest.timestamp).toBe(app.timestamp - 1000);
    expect(earliest.windowUs).toBe(app.windowUs - 500_000);
  });

  it('keeps the earlier point when the kubelet serves the same sample again (node.go / pod.go Store)', () => {
    const store = storeAt({ t: 100_000 });
    store.write(batch(FIRST, 1, 70_000));
    store.write(batch(SECOND, 2, 85_000));
    const before = (store.entry('minikube') as NodeEntry).nodeUsage();
    // Cached stats: the same sample times; the usage stays measured from the first scrape.
    store.write(batch(SECOND, 3, 100_000));
    expect((store.entry('minikube') as NodeEntry).nodeUsage()).toEqual(before);
  });

  it('lists no pod whose container restarted since the stored point, then lists it again', () => {
    const restarted = structuredClone(SECOND);
    const pod = restarted.pods.find((p) => p.podRef.name.startsWith('go-hello-world')) as Pod;
    const container = (pod.containers as Container[])[0] as Container;
    // Started after the first scrape's sample: the counter began again (pod.go keeps prev only if start < last).
    container.startTime = '2020-04-20T22:52:24Z';
    container.cpu.usageCoreNanoSeconds = 1_000_000;
    const store = storeAt({ t: 100_000 });
    store.write(batch(FIRST, 1, 80_000));
    store.write(batch(restarted, 2, 95_000));
    let entry = store.entry('minikube') as NodeEntry;
    expect(entry.podServable(podIndex(entry, pod.podRef.namespace, pod.podRef.name))).toBe(false);
    // Other pods are untouched.
    const other = restarted.pods.find((p) => p !== pod) as Pod;
    expect(entry.podServable(podIndex(entry, other.podRef.namespace, other.podRef.name))).toBe(true);

    const later = structuredClone(restarted);
    const again = (later.pods.find((p) => p.podRef.name === pod.podRef.name) as Pod)
      .containers?.[0] as Container;
    // 21 s after its start: past the fresh-container rule, so measured from the stored point.
    again.cpu.time = '2020-04-20T22:52:45Z';
    again.cpu.usageCoreNanoSeconds = 3_000_000;
    store.write(batch(later, 3, 100_000));
    entry = store.entry('minikube') as NodeEntry;
    const p = podIndex(entry, pod.podRef.namespace, pod.podRef.name);
    expect(entry.podServable(p)).toBe(true);
    expect(entry.containerUsage(entry.podStart(p)).nanocores).toBe(
      expectedNanocores(container.cpu, again.cpu),
    );
  });

  it('gives no usage for a counter that went down without a new start time (types.go resourceUsage)', () => {
    const reset = structuredClone(SECOND);
    reset.node.cpu.usageCoreNanoSeconds = 1;
    const pod = reset.pods[0] as Pod;
    ((pod.containers as Container[])[0] as Container).cpu.usageCoreNanoSeconds = 1;
    const store = storeAt({ t: 100_000 });
    store.write(batch(FIRST, 1, 80_000));
    store.write(batch(reset, 2, 95_000));
    const entry = store.entry('minikube') as NodeEntry;
    expect(entry.nodeUsage()).toBeUndefined();
    expect(entry.podServable(podIndex(entry, pod.podRef.namespace, pod.podRef.name))).toBe(false);
  });

  it('measures a fresh container from its start (pod.go freshContainerMinMetricsResolution)', () => {
    const fresh = structuredClone(FIRST);
    const pod = fresh.pods[1] as Pod;
    const container = (pod.containers as Container[])[0] as Container;
    // Started 12 s before its sample: at least 10 s, less than the 15 s resolution.
    container.startTime = new Date(Date.parse(container.cpu.time as string) - 12_000).toISOString();
    const store = storeAt({ t: 100_000 });
    store.write(batch(fresh, 1, 95_000));
    const entry = store.entry('minikube') as NodeEntry;
    const p = podIndex(entry, pod.podRef.namespace, pod.podRef.name);
    expect(entry.podServable(p)).toBe(true);
    const usage = entry.containerUsage(entry.podStart(p));
    expect(usage.nanocores).toBe(Math.trunc((container.cpu.usageCoreNanoSeconds as number) / 12));
    expect(usage.windowUs).toBe(12_000_000);
  });

  it('drops a pod one of whose containers has no working set (decode.go checkContainerMetrics)', () => {
    const partial = structuredClone(SECOND);
    const pod = partial.pods[2] as Pod;
    delete ((pod.containers as Container[])[0] as Container).memory.workingSetBytes;
    const store = storeAt({ t: 100_000 });
    store.write(batch(FIRST, 1, 80_000));
    store.write(batch(partial, 2, 95_000));
    const entry = store.entry('minikube') as NodeEntry;
    expect(podIndex(entry, pod.podRef.namespace, pod.podRef.name)).toBe(-1);
    expect(entry.podCount).toBe(SECOND.pods.filter((p) => (p.containers ?? []).length > 0).length - 1);
  });

  it('forgets a deleted pod at the next batch, and a silent node after two resolutions', () => {
    const now = { t: 100_000 };
    const store = storeAt(now);
    store.write(batch(FIRST, 1, 85_000));
    const fewer = structuredClone(SECOND);
    const gone = fewer.pods.pop() as Pod;
    store.write(batch(fewer, 2, 100_000));
    let entry = store.entry('minikube') as NodeEntry;
    expect(podIndex(entry, gone.podRef.namespace, gone.podRef.name)).toBe(-1);

    now.t = 100_000 + 2 * RESOLUTION;
    entry = store.entry('minikube') as NodeEntry;
    expect(entry).toBeDefined();
    now.t += 1;
    expect(store.entry('minikube')).toBeUndefined();
    expect(store.entries()).toEqual([]);
    store.endCycle();
    expect(store.size).toBe(0);
  });
});
