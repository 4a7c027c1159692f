import { pipe } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { staticMetadata, type PodMeta } from '../../src/component/metadata.js';
import type { ClusterBatch, MetricBatch, NodeBatch } from '../../src/model/types.js';
import podEnricher from '../pod-enricher/index.js';
import { podEnricherConfig } from '../pod-enricher/config.js';
import rate from '../rate/index.js';
import { rateConfig } from '../rate/config.js';
import {
  batchesOf,
  clusterBatchesOf,
  containerSet,
  cycleEnd,
  nodeBatch,
  nodeSet,
  podSet,
  runProcessor,
  setByKey,
  testContext,
} from '../../src/testing/index.js';
import { fixtureMetadata, fixtureText, goldenPoints } from '../../test/support/processors.js';
import { aggregateConfig } from './config.js';
import aggregate from './index.js';

function aggregator(config: Record<string, unknown> = {}, ctx = testContext({ id: 'agg' })) {
  return aggregate.create(aggregateConfig.parse(config), ctx);
}

describe('aggregate, pod level (Heapster A3)', () => {
  it('creates pod1 from its containers and fills only the values pod2 lacks', async () => {
    const batch = nodeBatch('h1', 1, [
      containerSet('ns1', 'pod1', 'c1', 'h1', { values: { m1: 10, m2: 222 } }),
      containerSet('ns1', 'pod1', 'c2', 'h1', { values: { m1: 100, m3: 30 } }),
      podSet('ns1', 'pod2', 'h1', { values: { m1: 100 } }),
      containerSet('ns1', 'pod2', 'c1', 'h1', { values: { m1: 10, m2: 20 } }),
    ]);
    const [out] = batchesOf(await runProcessor(aggregator({ levels: ['pod'] }), {}, [batch]));
    const pod1 = setByKey(out, 'namespace:ns1/pod:pod1');
    expect(pod1.values).toEqual({ m1: 110, m2: 222, m3: 30 });
    expect(pod1.labels).toEqual({ type: 'pod', pod_name: 'pod1', namespace_name: 'ns1', nodename: 'h1' });
    expect(pod1.type).toBe('pod');
    expect(setByKey(out, 'namespace:ns1/pod:pod2').values).toEqual({ m1: 100, m2: 20 });
  });

  it('adds the sums to the pod and node sets it received, in place (the batch is its own), no set copied', async () => {
    const pod = podSet('ns1', 'pod2', 'h1', { values: { m1: 100 } });
    const node = nodeSet('h1', { values: { 'cpu/usage': 1 } });
    const batch = nodeBatch('h1', 1, [
      node,
      pod,
      containerSet('ns1', 'pod2', 'c1', 'h1', { values: { m1: 10, 'cpu/request': 20 } }),
    ]);
    const podValues = pod.values;
    const nodeValues = node.values;
    const [out] = batchesOf(await runProcessor(aggregator({ levels: ['pod', 'node'] }), {}, [batch]));
    expect(out).toBe(batch);
    expect(setByKey(out, 'namespace:ns1/pod:pod2')).toBe(pod);
    // The sums go into the pod's own values: the same object, filled.
    expect(pod.values).toBe(podValues);
    expect(podValues).toEqual({ m1: 100, 'cpu/request': 20 });
    expect(setByKey(out, 'node:h1').values).toBe(nodeValues);
    expect(nodeValues).toEqual({ 'cpu/usage': 1, 'cpu/request': 20 });
  });

  it('skips the cumulative counters and labeled values, sums rates and restart counts', async () => {
    const fs = [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 5 }];
    const batch = nodeBatch('h1', 1, [
      containerSet('ns1', 'p', 'a', 'h1', {
        values: { uptime: 9, 'cpu/usage': 5, 'network/rx': 1, 'cpu/usage_rate': 3, restart_count: 1 },
        labeled: fs,
      }),
      containerSet('ns1', 'p', 'b', 'h1', {
        values: { 'cpu/usage': 7, 'cpu/usage_rate': 4, restart_count: 2 },
      }),
    ]);
    const [out] = batchesOf(await runProcessor(aggregator({ levels: ['pod'] }), {}, [batch]));
    const pod = setByKey(out, 'namespace:ns1/pod:p');
    expect(pod.values).toEqual({ 'cpu/usage_rate': 7, restart_count: 3 });
    expect(pod.labeled).toEqual([]);
  });
});

describe('aggregate, node level (Heapster A5)', () => {
  it('sums pod requests and limits into the existing node set, never creating one', async () => {
    const pods = [
      podSet('ns1', 'pod1', 'h1', { values: { 'cpu/request': 10, 'memory/usage': 222 } }),
      podSet('ns1', 'pod2', 'h1', { values: { 'cpu/request': 100, 'memory/limit': 30 } }),
    ];
    const [withNode] = batchesOf(
      await runProcessor(aggregator({ levels: ['node'] }), {}, [
        nodeBatch('h1', 1, [nodeSet('h1'), ...pods]),
      ]),
    );
    expect(setByKey(withNode, 'node:h1').values).toEqual({ 'cpu/request': 110, 'memory/limit': 30 });
    const without = nodeBatch('h1', 1, pods);
    const [out] = await runProcessor(aggregator({ levels: ['node'] }), {}, [without]);
    expect(out).toBe(without);
  });
});

describe('aggregate, namespace and cluster levels (Heapster A4, A6)', () => {
  it('sums Heapster’s six metrics over pods per namespace and over namespaces for the cluster', async () => {
    const events = await runProcessor(aggregator(), {}, [
      nodeBatch('h1', 1, [
        podSet('ns1', 'pod1', 'h1', {
          values: { 'cpu/usage_rate': 10, 'memory/rss': 222 },
          labels: { namespace_id: 'u1' },
        }),
        podSet('ns1', 'pod2', 'h1', { values: { 'cpu/usage_rate': 100, 'memory/usage': 30 } }),
        podSet('ns2', 'pod3', 'h1', { values: { 'cpu/usage_rate': 1, 'cpu/request': 5 } }),
      ]),
      cycleEnd(1, 1),
    ]);
    const [clusterBatch] = clusterBatchesOf(events);
    const ns1 = setByKey(clusterBatch, 'namespace:ns1');
    expect(ns1.values).toEqual({
      'cpu/usage_rate': 110,
      'memory/usage': 30,
      nodes_reporting: 1,
      nodes_expected: 1,
    });
    expect(ns1.labels).toEqual({ type: 'ns', namespace_name: 'ns1', namespace_id: 'u1' });
    expect(setByKey(clusterBatch, 'cluster').values).toEqual({
      'cpu/usage_rate': 111,
      'memory/usage': 30,
      'cpu/request': 5,
      nodes_reporting: 1,
      nodes_expected: 1,
    });
    expect(setByKey(clusterBatch, 'cluster').labels).toEqual({ type: 'cluster' });
  });
});

describe('aggregate, cycles', () => {
  const pod = (node: string, rateValue: number) =>
    podSet('ns1', `p-${node}`, node, { values: { 'cpu/usage_rate': rateValue } });

  it('emits the aggregates of a cycle exactly once, after its node batches and right before its mark', async () => {
    const ctx = testContext({ id: 'agg' });
    const end1 = cycleEnd(1, 2);
    const end2 = cycleEnd(2, 2, { failures: [{ node: 'b', reason: 'timeout', message: 'no answer in 5s' }] });
    const events = await runProcessor(aggregator({}, ctx), {}, [
      nodeBatch('a', 1, [pod('a', 100)]),
      nodeBatch('b', 1, [pod('b', 10)]),
      nodeBatch('a', 2, [pod('a', 200)]),
      end1,
      nodeBatch('b', 1, [pod('b', 99)]), // late: cycle 1 has ended
      end2,
    ]);
    expect(
      events.map((e) =>
        e.kind === 'cycle_end'
          ? `end${e.cycle}`
          : e.scope === 'cluster'
            ? `agg${e.cycle}`
            : `${e.node}${e.cycle}`,
      ),
    ).toEqual(['a1', 'b1', 'a2', 'agg1', 'end1', 'b1', 'agg2', 'end2']);
    const [agg1, agg2] = clusterBatchesOf(events) as [ClusterBatch, ClusterBatch];
    expect(setByKey(agg1, 'cluster').values).toEqual({
      'cpu/usage_rate': 110,
      nodes_reporting: 2,
      nodes_expected: 2,
    });
    // Node b failed in cycle 2: counted as missing, not summed as zero, and its late cycle-1 batch is not summed.
    expect(setByKey(agg2, 'cluster').values).toEqual({
      'cpu/usage_rate': 200,
      nodes_reporting: 1,
      nodes_expected: 2,
    });
    expect(setByKey(agg2, 'namespace:ns1').values.get('nodes_reporting')).toBe(1);
    expect(agg2.timestamp).toBe(end2.timestamp);
    expect(ctx.telemetry.value('heapstream_aggregate_late_batches_total', { processor: 'agg' })).toBe(1);
  });

  it('emits a cluster set (no sums, nodes_reporting 0) for a cycle in which no node answered', async () => {
    const events = await runProcessor(aggregator(), {}, [cycleEnd(4, 3)]);
    const [agg] = clusterBatchesOf(events);
    expect(agg?.sets).toHaveLength(1);
    expect(setByKey(agg, 'cluster').values).toEqual({ nodes_reporting: 0, nodes_expected: 3 });
  });

  it('with levels [pod, node] emits no cluster batch and passes marks on', async () => {
    const mark = cycleEnd(1, 1);
    const events = await runProcessor(aggregator({ levels: ['pod', 'node'] }), {}, [
      nodeBatch('a', 1, [pod('a', 1)]),
      mark,
    ]);
    expect(events).toHaveLength(2);
    expect(events[1]).toBe(mark);
  });

  it('keeps clusters apart: same node names and cycles in two clusters give two sets of aggregates', async () => {
    const inCluster = <T extends object>(cluster: string, event: T): T => ({ ...event, cluster });
    const withLabel = (cluster: string, node: string, value: number) =>
      podSet('ns1', `p-${node}`, node, {
        values: { 'cpu/usage_rate': value },
        labels: { cluster_name: cluster },
      });
    const events = await runProcessor(aggregator(), {}, [
      inCluster('east', nodeBatch('a', 1, [withLabel('east', 'a', 1)])),
      inCluster('west', nodeBatch('a', 1, [withLabel('west', 'a', 20)])),
      inCluster('west', nodeBatch('b', 1, [withLabel('west', 'b', 300)])),
      inCluster('east', cycleEnd(1, 1)),
      inCluster('west', nodeBatch('a', 2, [withLabel('west', 'a', 4000)])),
      inCluster('west', cycleEnd(1, 2)),
    ]);
    const [east, west] = clusterBatchesOf(events) as [ClusterBatch, ClusterBatch];
    expect([east.cluster, west.cluster]).toEqual(['east', 'west']);
    expect(east.sets.map((s) => s.key)).toEqual(['cluster:east/namespace:ns1', 'cluster:east']);
    expect(setByKey(east, 'cluster:east').values).toEqual({
      'cpu/usage_rate': 1,
      nodes_reporting: 1,
      nodes_expected: 1,
    });
    expect(setByKey(east, 'cluster:east').labels).toEqual({ type: 'cluster', cluster_name: 'east' });
    expect(setByKey(east, 'cluster:east/namespace:ns1').labels).toEqual({
      type: 'ns',
      namespace_name: 'ns1',
      cluster_name: 'east',
    });
    // West's node a in cycle 1 is its own, not east's; west's cycle 2 stays open after west's cycle 1 closed.
    expect(setByKey(west, 'cluster:west').values).toEqual({
      'cpu/usage_rate': 320,
      nodes_reporting: 2,
      nodes_expected: 2,
    });
  });

  it('rejects unknown and repeated levels', () => {
    expect(aggregateConfig.safeParse({ levels: ['pods'] }).success).toBe(false);
    expect(aggregateConfig.safeParse({ levels: ['pod', 'pod'] }).success).toBe(false);
    expect(aggregateConfig.safeParse({ level: ['pod'] }).success).toBe(false);
    expect(aggregateConfig.parse({}).levels).toEqual(['pod', 'namespace', 'node', 'cluster']);
  });
});

const A7_POD: PodMeta = {
  namespace: 'ns1',
  name: 'pod1',
  uid: 'u',
  nodeName: 'n1',
  labels: {},
  containers: [
    { name: 'c1', image: 'i', requests: { cpu: 100, memory: 555, 'ephemeral-storage': 1000 }, limits: {} },
    {
      name: 'nginx',
      image: 'nginx',
      requests: { cpu: 333, memory: 1000, 'ephemeral-storage': 2000, 'example.com/resource1': 2 },
      limits: { cpu: 2222, memory: 3333, 'ephemeral-storage': 5000, 'example.com/resource1': 2 },
    },
  ],
  restartCounts: {},
};

describe('pod_enricher + aggregate (Heapster A7)', () => {
  it.each([
    ['container c1 and the pod', true, true],
    ['container c1 only', true, false],
    ['the pod only', false, true],
  ])('%s: the pod gets the sums of both containers’ requests and limits', async (_name, withC1, withPod) => {
    const ctx = testContext({ metadata: staticMetadata({ pods: [A7_POD] }) });
    const chain = pipe(podEnricher.create(podEnricherConfig.parse({}), ctx), aggregator({ levels: ['pod'] }));
    const sets = [
      ...(withC1 ? [containerSet('ns1', 'pod1', 'c1', 'n1')] : []),
      ...(withPod ? [podSet('ns1', 'pod1', 'n1')] : []),
    ];
    const [out] = batchesOf(await runProcessor(chain, {}, [nodeBatch('n1', 1, sets)]));
    expect(setByKey(out, 'namespace:ns1/pod:pod1').values).toEqual({
      'cpu/request': 433,
      'memory/request': 1555,
      'ephemeral_storage/request': 3000,
      'example.com/resource1/request': 2,
      'cpu/limit': 2222,
      'memory/limit': 3333,
      'ephemeral_storage/limit': 5000,
      'example.com/resource1/limit': 2,
    });
    expect(setByKey(out, 'namespace:ns1/pod:pod1/container:c1').values).toMatchObject({
      'cpu/request': 100,
      'memory/request': 555,
      'ephemeral_storage/request': 1000,
      'cpu/limit': 0,
      'memory/limit': 0,
      'ephemeral_storage/limit': 0,
    });
  });
});

describe('rate + pod_enricher + aggregate (Heapster B3)', () => {
  it('gives the pod, namespace, node and cluster values of Heapster’s second batch', async () => {
    const Mi = 1024 * 1024;
    const pod: PodMeta = {
      namespace: 'ns1',
      name: 'web',
      uid: 'pod-uid',
      nodeName: 'n1',
      labels: { app: 'web', tier: 'fe' },
      containers: [
        {
          name: 'app',
          image: 'img/app:1',
          requests: { cpu: 250, memory: 128 * Mi },
          limits: { cpu: 1000, memory: 256 * Mi },
        },
        { name: 'side', image: 'img/side:1', requests: { cpu: 50, 'nvidia.com/gpu': 1 }, limits: {} },
        { name: 'notrunning', image: 'img/x:1', requests: {}, limits: {} },
      ],
      restartCounts: { app: 3, side: 1 },
    };
    const ctx = testContext({ metadata: staticMetadata({ pods: [pod] }), resolutionMs: 60_000 });
    const chain = pipe(
      rate.create(rateConfig.parse({}), ctx),
      podEnricher.create(podEnricherConfig.parse({ store_labels: ['app'], ignore_labels: ['tier'] }), ctx),
      aggregator({}, ctx),
    );
    const t0 = Date.UTC(2018, 0, 1);
    const start = t0 - 3_600_000;
    const batch = (cycle: number, f: number) =>
      nodeBatch('n1', cycle, [
        nodeSet('n1', {
          values: {
            'cpu/usage': 1.5e9 * f,
            'memory/usage': 1024 * Mi,
            'ephemeral_storage/usage': 10240 * Mi,
          },
          scrapeTime: t0 + f * 1000,
          startTime: start,
        }),
        containerSet('ns1', 'web', 'app', 'n1', {
          values: {
            'cpu/usage': 0.3e9 * f,
            'memory/usage': 100 * Mi,
            'memory/working_set': 90 * Mi,
            uptime: 3_600_000,
          },
          scrapeTime: t0 + f * 1000,
          startTime: start,
        }),
        containerSet('ns1', 'web', 'side', 'n1', {
          values: { 'cpu/usage': 0.02e9 * f, 'memory/usage': 20 * Mi },
          scrapeTime: t0 + f * 1000,
          startTime: start,
        }),
      ]);
    const events = await runProcessor(chain, {}, [
      batch(1, 60),
      cycleEnd(1, 1),
      batch(2, 120),
      cycleEnd(2, 1),
    ]);
    const second = batchesOf(events).filter((b): b is NodeBatch => b.scope === 'node')[1];
    const requests = {
      'cpu/request': 300,
      'cpu/limit': 1000,
      'memory/request': 134217728,
      'memory/limit': 268435456,
    };
    expect(setByKey(second, 'namespace:ns1/pod:web').values).toEqual({
      ...requests,
      'cpu/usage_rate': 320,
      'memory/usage': 125829120,
      'memory/working_set': 94371840,
      'nvidia.com/gpu/request': 1,
      'ephemeral_storage/request': 0,
      'ephemeral_storage/limit': 0,
      restart_count: 4,
    });
    expect(setByKey(second, 'node:n1').values).toMatchObject({
      ...requests,
      'cpu/usage_rate': 1500,
      'ephemeral_storage/request': 0,
      'ephemeral_storage/limit': 0,
    });
    const agg = clusterBatchesOf(events)[1] as MetricBatch;
    const six = {
      ...requests,
      'cpu/usage_rate': 320,
      'memory/usage': 125829120,
      nodes_reporting: 1,
      nodes_expected: 1,
    };
    expect(setByKey(agg, 'namespace:ns1').values).toEqual(six);
    expect(setByKey(agg, 'cluster').values).toEqual(six);
  });
});

describe('pod_enricher + aggregate on a real payload (nri-1.34) against Heapster’s output', () => {
  it('gives the namespace, cluster, node and pod sums Heapster gave', async () => {
    const node = 'datagen-1-34';
    const sets = decodeSummary(JSON.parse(fixtureText('kubelet/nri-1.34/stats-summary.json')), {
      name: node,
    });
    const ctx = testContext({ metadata: fixtureMetadata('nri-1.34', node) });
    const chain = pipe(podEnricher.create(podEnricherConfig.parse({}), ctx), aggregator({}, ctx));
    const events = await runProcessor(chain, {}, [nodeBatch(node, 1, sets), cycleEnd(1, 1)]);
    const [nodeOut, clusterOut] = batchesOf(events);
    const golden = goldenPoints('nri-1.34');
    const keyOf = (t: Readonly<Record<string, string>>) =>
      t.type === 'ns'
        ? `namespace:${t.namespace_name}`
        : t.type === 'cluster'
          ? 'cluster'
          : t.type === 'node'
            ? `node:${t.nodename}`
            : `namespace:${t.namespace_name}/pod:${t.pod_name}`;
    const checked = golden.filter(
      (p) =>
        ['ns', 'cluster', 'node', 'pod'].includes(p.tags.type ?? '') &&
        !p.measurement.startsWith('filesystem/') &&
        !p.measurement.includes('/node_') &&
        p.measurement !== 'uptime',
    );
    expect(checked.length).toBeGreaterThan(200);
    for (const p of checked) {
      const key = keyOf(p.tags);
      const set = setByKey(p.tags.type === 'ns' || p.tags.type === 'cluster' ? clusterOut : nodeOut, key);
      expect([key, p.measurement, set.values.get(p.measurement)]).toEqual([key, p.measurement, p.value]);
    }
  });
});
