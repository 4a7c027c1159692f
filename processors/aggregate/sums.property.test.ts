import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeKey, podKey } from '../../src/model/keys.js';
import { LABEL } from '../../src/model/labels.js';
import type { MetricSet, NodeBatch } from '../../src/model/types.js';
import {
  cloneEvent,
  batchesOf,
  containerSet,
  nodeBatch,
  nodeSet,
  podSet,
  runProcessor,
  testContext,
} from '../../src/testing/index.js';
import { aggregateOperator } from './aggregate.js';
import { NODE_SUMS, POD_SKIPPED, podLabelsFrom } from './sums.js';
import { SetValues } from '../../src/model/set-values.js';

// The pod and node sums, kept by slot in typed arrays and written into the batch's own sets, against the simplest
// statement of what they must give: records summed per pod, copied onto new sets (the implementation they replaced).
// Compared exactly: values, labels, set order and the order of every value's key (what JSON Lines writes).

function referencePods(sets: readonly MetricSet[]): MetricSet[] {
  const pods = new Map<
    string,
    { index: number; first: MetricSet; sums: Record<string, number>; any: boolean; scrapeTime: number }
  >();
  const podIndex = new Map<string, number>();
  sets.forEach((set, i) => {
    if (set.type === 'pod') podIndex.set(set.key, i);
  });
  for (const set of sets) {
    if (set.type !== 'pod_container') continue;
    const ns = set.labels[LABEL.namespaceName];
    const pod = set.labels[LABEL.podName];
    if (ns === undefined || pod === undefined) continue;
    const key = podKey(ns, pod);
    let acc = pods.get(key);
    if (acc === undefined) {
      acc = { index: podIndex.get(key) ?? -1, first: set, sums: {}, any: false, scrapeTime: 0 };
      pods.set(key, acc);
    }
    const existing = acc.index >= 0 ? (sets[acc.index] as MetricSet).values : undefined;
    for (const [name, value] of set.values) {
      if (POD_SKIPPED.has(name) || (existing !== undefined && existing.has(name))) continue;
      acc.sums[name] = (acc.sums[name] ?? 0) + value;
      acc.any = true;
    }
    if (set.scrapeTime > acc.scrapeTime) acc.scrapeTime = set.scrapeTime;
  }
  const out = sets.slice();
  for (const [key, acc] of pods) {
    if (acc.index >= 0) {
      if (!acc.any) continue;
      const pod = sets[acc.index] as MetricSet;
      out[acc.index] = { ...pod, values: SetValues.from({ ...pod.values.toJSON(), ...acc.sums }) };
    } else {
      const labels = podLabelsFrom(acc.first);
      out.push({
        type: 'pod',
        key,
        labels,
        values: SetValues.from(acc.sums),
        labeled: [],
        scrapeTime: acc.scrapeTime,
        startTime: 0,
      });
    }
  }
  return out;
}

function referenceNode(sets: MetricSet[], node: string): MetricSet[] {
  const index = sets.findIndex((s) => s.type === 'node' && s.key === nodeKey(node));
  if (index < 0) return sets;
  const sums: Record<string, number> = {};
  for (const name of NODE_SUMS) {
    for (const set of sets) {
      const v = set.type === 'pod' ? set.values.get(name) : undefined;
      if (v !== undefined) sums[name] = (sums[name] ?? 0) + v;
    }
  }
  if (Object.keys(sums).length === 0) return sets;
  const nodeSet = sets[index] as MetricSet;
  const out = sets.slice();
  out[index] = { ...nodeSet, values: SetValues.from({ ...nodeSet.values.toJSON(), ...sums }) };
  return out;
}

/** What a set looks like to a sink writing JSON Lines: every key in order, -0 told apart from 0. */
function exactly(sets: readonly MetricSet[]): string {
  return JSON.stringify(sets, (_key, value: unknown) => (Object.is(value, -0) ? '-0' : value));
}

// Names from the catalogue (counters a pod skips, rates, requests it sums), extended resources and custom metrics.
const METRICS = [
  'uptime',
  'cpu/usage',
  'network/rx',
  'memory/page_faults',
  'cpu/usage_rate',
  'memory/usage',
  'memory/working_set',
  'restart_count',
  ...NODE_SUMS,
  'example.com/gpu/request',
  'custom/qps',
];
const value = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.double({ min: -1e12, max: 1e12, noNaN: true }),
  fc.constant(-0),
);
const values = fc.dictionary(fc.constantFrom(...METRICS), value, { maxKeys: 8, noNullPrototype: true });
// Two namespace/pod pairs whose keys collide ('namespace:a/pod:b/pod:c'), as the record keyed by pod key merged them.
const namespace = fc.constantFrom('ns1', 'ns2', 'a', 'a/pod:b');
const pod = fc.constantFrom('p1', 'p2', 'c', 'b/pod:c');
const time = fc.integer({ min: 0, max: 5 });
const set = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(namespace, pod, fc.constantFrom('c1', 'c2', 'c3'), values, time)
      .map(([ns, p, c, v, t]) => containerSet(ns, p, c, 'n1', { values: v, scrapeTime: t })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(namespace, pod, values).map(([ns, p, v]) => podSet(ns, p, 'n1', { values: v })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('n1', 'n2'), values).map(([n, v]) => nodeSet(n, { values: v })),
  },
  {
    weight: 1,
    // A container without its pod's name: not summed anywhere.
    arbitrary: values.map((v): MetricSet => {
      const c = containerSet('ns1', 'p1', 'lost', 'n1', { values: v });
      const labels: Record<string, string> = { ...c.labels };
      delete labels[LABEL.podName];
      return { ...c, labels };
    }),
  },
);
const batches = fc.array(fc.array(set, { maxLength: 14 }), { minLength: 1, maxLength: 4 });

describe('pod and node sums by slot, against records summed and copied', () => {
  it('give exactly the same sets, batch after batch through one operator', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (all) => {
        const input = all.map((sets, i) => nodeBatch('n1', i + 1, sets));
        const expected = input.map((b) => referenceNode(referencePods(cloneEvent(b).sets.slice()), b.node));
        const op = aggregateOperator(['pod', 'node'], testContext());
        const out = batchesOf(await runProcessor(op, {}, input)) as NodeBatch[];
        expect(out.map((b) => exactly(b.sets))).toEqual(expected.map(exactly));
      }),
      { seed: 16, numRuns: 400 },
    );
  });
});
