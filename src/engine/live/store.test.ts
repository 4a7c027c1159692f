import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../component/clock.js';
import { Telemetry } from '../../component/telemetry.js';
import { CLUSTER_KEY, namespaceKey } from '../../model/keys.js';
import type { CycleEnd, MetricSet, NodeBatch, PipelineEvent } from '../../model/types.js';
import { deepFreeze } from '../../testing/deep-freeze.js';
import { nodeSet, podSet } from '../../testing/sets.js';
import { CANDIDATES, SPARK_POINTS } from './pods.js';
import { MAX_BUCKETS, MAX_NAMESPACES, MAX_RAW_POINTS } from './series.js';
import { CHART_NAMESPACES, LiveStore } from './store.js';
import { writtenBySinks } from './written.js';
import { SetValues } from '../../model/set-values.js';

const START = 1_800_000_000_000;

function clockAt(): Clock & { set(t: number): void } {
  let now = START;
  return { now: () => now, scheduler: asyncScheduler, set: (t) => (now = t) };
}

function aggregate(
  type: 'ns' | 'cluster',
  key: string,
  labels: Record<string, string>,
  values: Record<string, number>,
): MetricSet {
  return {
    type,
    key,
    labels: { type, ...labels },
    values: SetValues.from(values),
    labeled: [],
    scrapeTime: 0,
    startTime: 0,
  };
}

interface CycleInput {
  readonly cycle: number;
  readonly time: number;
  readonly namespaces: number;
  readonly podsPerNode: number;
  readonly nodes: readonly string[];
  readonly failing?: readonly string[];
}

/** Cycles `from` to `to` of one shape, 5 s apart, into the store. */
function feed(store: LiveStore, from: number, to: number, shape: Omit<CycleInput, 'cycle' | 'time'>): void {
  for (let cycle = from; cycle <= to; cycle++) {
    for (const e of cycleEvents({ ...shape, cycle, time: START + cycle * 5000 })) store.observe(e);
  }
}

/** One cycle's events as the processors emit them: node batches, the cluster batch, then the cycle's end. */
function cycleEvents(c: CycleInput): PipelineEvent[] {
  const events: PipelineEvent[] = [];
  for (const node of c.nodes) {
    if (c.failing?.includes(node)) continue;
    const pods = Array.from({ length: c.podsPerNode }, (_, i) =>
      podSet(`ns-${i % c.namespaces}`, `${node}-pod-${i}`, node, {
        values: { 'cpu/usage_rate': (i * 7 + c.cycle) % 97, 'memory/working_set': 1000 * i + c.cycle },
      }),
    );
    const batch: NodeBatch = {
      kind: 'batch',
      scope: 'node',
      node,
      cycle: c.cycle,
      timestamp: c.time,
      sets: [nodeSet(node, { values: { 'cpu/usage_rate': 100, 'memory/working_set': 2000 } }), ...pods],
    };
    events.push(batch);
  }
  const namespaces = Array.from({ length: c.namespaces }, (_, i) =>
    aggregate(
      'ns',
      namespaceKey(`ns-${i}`),
      { namespace_name: `ns-${i}` },
      {
        'cpu/usage_rate': i + c.cycle,
        'memory/usage': 10 * i,
      },
    ),
  );
  events.push({
    kind: 'batch',
    scope: 'cluster',
    cycle: c.cycle,
    timestamp: c.time,
    sets: [
      ...namespaces,
      aggregate('cluster', CLUSTER_KEY, {}, { 'cpu/usage_rate': c.cycle, 'memory/usage': 5 }),
    ],
  });
  const end: CycleEnd = {
    kind: 'cycle_end',
    cycle: c.cycle,
    timestamp: c.time,
    nodesExpected: c.nodes.length,
    nodesAnswered: c.nodes.length - (c.failing?.length ?? 0),
    failures: (c.failing ?? []).map((node) => ({
      node,
      reason: 'http_status',
      message: `GET https://${node}:10250/stats/summary answered 401: Authorization: Bearer abcdefghijklmnopqrstuv`,
    })),
    durationMs: 10,
  };
  events.push(end);
  // Frozen as sinks see them in tests: the store only reads.
  return events.map((e) => deepFreeze(e));
}

describe('the live view store', () => {
  it('keeps each cycle’s cluster and namespace values as the sets carry them', () => {
    const clock = clockAt();
    const store = new LiveStore(
      new Telemetry(),
      clock,
      () => [],
      () => 5000,
    );
    feed(store, 1, 3, { namespaces: 2, podsPerNode: 4, nodes: ['a'] });
    const snap = store.snapshot({ range: '5m', search: '' });
    expect(snap.cycle).toBe(3);
    expect(snap.series.t).toEqual([START + 5000, START + 10_000, START + 15_000]);
    expect(snap.series.cluster).toEqual({ cpu: [1, 2, 3], memory: [5, 5, 5] });
    expect(snap.series.namespaces.map((n) => [n.name, n.cpu])).toEqual([
      ['ns-1', [2, 3, 4]],
      ['ns-0', [1, 2, 3]],
    ]);
    expect(store.snapshot({ range: '5m', search: 'ns-0' }).series.namespaces.map((n) => n.name)).toEqual([
      'ns-0',
    ]);
  });

  // 7,200 cycles: more than the default 5 s on a busy machine; a limit on the run, not an assertion on its speed.
  it(
    'stays within its stated bound over two hours of 1-second cycles with many namespaces and pods',
    { timeout: 60_000 },
    () => {
      const clock = clockAt();
      const store = new LiveStore(
        new Telemetry(),
        clock,
        () => [],
        () => 1000,
      );
      const nodes = ['a', 'b'];
      let largest = { raw: 0, buckets: 0, histories: 0, namespaces: 0 };
      for (let cycle = 1; cycle <= 7200; cycle++) {
        const time = START + cycle * 1000;
        clock.set(time);
        // Many namespaces and pods only now and then: the bound holds whatever a cycle brings.
        const wide = cycle % 600 === 0;
        for (const e of cycleEvents({
          cycle,
          time,
          namespaces: wide ? MAX_NAMESPACES + 50 : 3,
          podsPerNode: wide ? 400 : 6,
          nodes,
        }))
          store.observe(e);
        const size = store.size;
        // A snapshot of the hour is the costly part: every minute's is enough to see what it charts.
        const namespaces =
          cycle % 60 === 0 ? store.snapshot({ range: '1h', search: '' }).series.namespaces.length : 0;
        largest = {
          raw: Math.max(largest.raw, size.raw),
          buckets: Math.max(largest.buckets, size.buckets),
          histories: Math.max(largest.histories, size.histories),
          namespaces: Math.max(largest.namespaces, namespaces),
        };
      }
      expect(largest.raw).toBeLessThanOrEqual(MAX_RAW_POINTS);
      expect(largest.buckets).toBeLessThanOrEqual(MAX_BUCKETS);
      expect(largest.histories).toBeLessThanOrEqual(2 * CANDIDATES * SPARK_POINTS);
      expect(largest.namespaces).toBeLessThanOrEqual(CHART_NAMESPACES);
      // The last cycle (7,200) is a wide one: the namespaces past the limit are counted, not kept.
      expect(store.snapshot({ range: '5m', search: '' }).namespacesLeftOut).toBe(50);
      // 5 minutes at one point per second, and the hour before downsampled to one point a minute.
      const hour = store.snapshot({ range: '1h', search: '' });
      expect(hour.series.t.length).toBeLessThanOrEqual(MAX_RAW_POINTS + MAX_BUCKETS);
      expect(hour.series.t.length).toBeGreaterThan(MAX_RAW_POINTS);
      expect(hour.series.t[0]).toBeGreaterThanOrEqual(START + 7200 * 1000 - 60 * 60_000 - 60_000);
      expect([...hour.series.t]).toEqual([...hour.series.t].sort((a, b) => a - b));
      expect(store.snapshot({ range: '5m', search: '' }).series.t.length).toBe(300);
    },
  );

  it('averages what it downsamples', () => {
    const clock = clockAt();
    const store = new LiveStore(
      new Telemetry(),
      clock,
      () => [],
      () => 1000,
    );
    // Cycles 1..60 fall in one minute; 6 minutes later they are all folded into one point.
    const minute = Math.ceil(START / 60_000) * 60_000;
    for (let i = 0; i < 60 + 400; i++) {
      for (const e of cycleEvents({
        cycle: i + 1,
        time: minute + i * 1000,
        namespaces: 1,
        podsPerNode: 1,
        nodes: ['a'],
      }))
        store.observe(e);
    }
    const first = store.snapshot({ range: '1h', search: '' }).series;
    // Cluster CPU is the cycle number: 1..60 average to 30.5, rounded.
    expect(first.cluster.cpu[0]).toBe(Math.round((1 + 60) / 2));
  });

  it('ranks the top pods, with histories, and finds pods by name', () => {
    const store = new LiveStore(
      new Telemetry(),
      clockAt(),
      () => [],
      () => 5000,
    );
    feed(store, 1, 3, { namespaces: 2, podsPerNode: 20, nodes: ['a', 'b'] });
    const snap = store.snapshot({ range: '5m', search: '' });
    expect(snap.topPods.cpu).toHaveLength(10);
    const cpus = snap.topPods.cpu.map((p) => p.cpu ?? 0);
    expect(cpus).toEqual([...cpus].sort((a, b) => b - a));
    expect(snap.topPods.cpu[0]!.cpuHistory).toHaveLength(3);
    const found = store.snapshot({ range: '5m', search: 'b-pod-1' }).topPods.memory;
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((p) => p.pod.includes('b-pod-1'))).toBe(true);
  });

  it('puts failing nodes first, with their error redacted', () => {
    const store = new LiveStore(
      new Telemetry(),
      clockAt(),
      () => [],
      () => 5000,
    );
    const nodes = ['a', 'b', 'c'];
    for (const e of cycleEvents({ cycle: 1, time: START, namespaces: 1, podsPerNode: 1, nodes }))
      store.observe(e);
    for (const e of cycleEvents({
      cycle: 2,
      time: START + 5000,
      namespaces: 1,
      podsPerNode: 1,
      nodes,
      failing: ['c'],
    }))
      store.observe(e);
    const { rows, failing, total } = store.snapshot({ range: '5m', search: '' }).nodes;
    expect([total, failing]).toEqual([3, 1]);
    expect(rows[0]).toMatchObject({ name: 'c', failing: true, failuresInRow: 1 });
    expect(rows[0]!.lastError?.message).not.toContain('abcdefghijklmnopqrstuv');
    expect(rows.slice(1).map((r) => [r.name, r.failing, r.sets])).toEqual(
      expect.arrayContaining([
        ['a', false, 2],
        ['b', false, 2],
      ]),
    );
  });

  it('samples each sink’s backlog per cycle from the engine’s counters', () => {
    const t = new Telemetry();
    const store = new LiveStore(
      t,
      clockAt(),
      () => ['lake'],
      () => 5000,
    );
    const backlog = t.gauge('heapstream_sink_queue_batches', { sink: 'lake' });
    for (let cycle = 1; cycle <= 3; cycle++) {
      backlog.set(cycle * 4);
      t.counter('heapstream_sink_dropped_batches_total', { sink: 'lake', reason: 'policy' }).inc();
      for (const e of cycleEvents({
        cycle,
        time: START + cycle * 5000,
        namespaces: 1,
        podsPerNode: 1,
        nodes: ['a'],
      }))
        store.observe(e);
    }
    const [lake] = store.snapshot({ range: '5m', search: '' }).sinks;
    expect(lake).toMatchObject({ name: 'lake', backlog: 12, dropped: 3, backlogHistory: [4, 8, 12] });
  });

  it('shows nothing that no sink’s select lets through: no namespace, pod or metric of its own', () => {
    const written = writtenBySinks([
      { namespaces: ['ns-0'] },
      { types: ['cluster'], metrics: ['cpu/usage_rate'] },
    ]);
    const store = new LiveStore(
      new Telemetry(),
      clockAt(),
      () => [],
      () => 5000,
      written,
    );
    feed(store, 1, 2, { namespaces: 3, podsPerNode: 9, nodes: ['a'] });
    const snap = store.snapshot({ range: '5m', search: '' });
    expect(snap.series.namespaces.map((n) => n.name)).toEqual(['ns-0']);
    // The cluster set is written for its CPU only.
    expect(snap.series.cluster).toEqual({ cpu: [1, 2], memory: [null, null] });
    expect(snap.topPods.cpu.length).toBeGreaterThan(0);
    expect(snap.topPods.cpu.every((p) => p.namespace === 'ns-0')).toBe(true);
    expect(snap.topPods.memory.every((p) => p.namespace === 'ns-0')).toBe(true);
    // No sink writes node sets: the node's row keeps its name and counts, not its values.
    expect(snap.nodes.rows[0]).toMatchObject({ name: 'a', cpu: null, memory: null });
  });
});
