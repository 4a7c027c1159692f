import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { staticMetadata, type PodMeta } from '../../src/component/metadata.js';
import { MetadataCache } from '../../src/kube/metadata-cache.js';
import type { KubeObject } from '../../src/kube/reflector.js';
import type { MetricBatch, PipelineEvent } from '../../src/model/types.js';
import {
  batchesOf,
  containerSet,
  cycleEnd,
  nodeBatch,
  podSet,
  runProcessor,
  setByKey,
  testContext,
} from '../../src/testing/index.js';
import { fixtureMetadata, fixtureText, goldenPoints } from '../../test/support/processors.js';
import { podEnricherConfig } from './config.js';
import podEnricher from './index.js';

const A7_POD: PodMeta = {
  namespace: 'ns1',
  name: 'pod1',
  uid: 'uid-pod1',
  nodeName: 'n1',
  labels: {},
  containers: [
    {
      name: 'c1',
      image: 'img/c1',
      requests: { cpu: 100, memory: 555, 'ephemeral-storage': 1000 },
      limits: {},
    },
    {
      name: 'nginx',
      image: 'nginx:1',
      requests: { cpu: 333, memory: 1000, 'ephemeral-storage': 2000, 'example.com/resource1': 2 },
      limits: { cpu: 2222, memory: 3333, 'ephemeral-storage': 5000, 'example.com/resource1': 2 },
    },
  ],
  restartCounts: { c1: 4 },
};

const B3_POD: PodMeta = {
  namespace: 'ns1',
  name: 'web',
  uid: 'pod-uid',
  nodeName: 'n1',
  labels: { app: 'web', tier: 'fe' },
  containers: [
    {
      name: 'app',
      image: 'img/app:1',
      requests: { cpu: 250, memory: 134217728 },
      limits: { cpu: 1000, memory: 268435456 },
    },
    { name: 'side', image: 'img/side:1', requests: { cpu: 50, 'nvidia.com/gpu': 1 }, limits: {} },
    { name: 'notrunning', image: 'img/x:1', requests: {}, limits: {} },
  ],
  restartCounts: { app: 3, side: 1 },
  owner: { kind: 'Deployment', name: 'web' },
};

function enricher(pods: PodMeta[], config: Record<string, unknown> = {}) {
  const ctx = testContext({ metadata: staticMetadata({ pods }) });
  return podEnricher.create(podEnricherConfig.parse(config), ctx);
}

const nodeLabels = { hostname: 'n1.host', host_id: 'hid' };

describe('pod_enricher (Heapster A7)', () => {
  const c1 = containerSet('ns1', 'pod1', 'c1', 'n1', { values: { 'cpu/usage': 5 }, labels: nodeLabels });
  const pod = podSet('ns1', 'pod1', 'n1', { labels: nodeLabels });

  it('container and pod: fills the container, adds a stub for the missing spec container nginx', async () => {
    const [out] = batchesOf(await runProcessor(enricher([A7_POD]), {}, [nodeBatch('n1', 1, [c1, pod])]));
    const c = setByKey(out, 'namespace:ns1/pod:pod1/container:c1');
    expect(c.values).toEqual({
      'cpu/usage': 5,
      'cpu/request': 100,
      'memory/request': 555,
      'ephemeral_storage/request': 1000,
      'cpu/limit': 0,
      'memory/limit': 0,
      'ephemeral_storage/limit': 0,
      restart_count: 4,
    });
    expect(c.labels).toMatchObject({
      pod_id: 'uid-pod1',
      container_base_image: 'img/c1',
      hostname: 'n1.host',
    });
    const nginx = setByKey(out, 'namespace:ns1/pod:pod1/container:nginx');
    expect(nginx.values).toEqual({
      'cpu/request': 333,
      'memory/request': 1000,
      'ephemeral_storage/request': 2000,
      'example.com/resource1/request': 2,
      'cpu/limit': 2222,
      'memory/limit': 3333,
      'ephemeral_storage/limit': 5000,
      'example.com/resource1/limit': 2,
    });
    expect(nginx.labels).toEqual({
      type: 'pod_container',
      namespace_name: 'ns1',
      pod_name: 'pod1',
      container_name: 'nginx',
      container_base_image: 'nginx:1',
      pod_id: 'uid-pod1',
      nodename: 'n1',
      hostname: 'n1.host',
      host_id: 'hid',
    });
    expect(setByKey(out, 'namespace:ns1/pod:pod1').labels.pod_id).toBe('uid-pod1');
    expect(out?.sets).toHaveLength(3);
  });

  it('container only: creates a stub pod set with the container’s node labels', async () => {
    const [out] = batchesOf(await runProcessor(enricher([A7_POD]), {}, [nodeBatch('n1', 1, [c1])]));
    expect(setByKey(out, 'namespace:ns1/pod:pod1').labels).toEqual({
      type: 'pod',
      namespace_name: 'ns1',
      pod_name: 'pod1',
      nodename: 'n1',
      hostname: 'n1.host',
      host_id: 'hid',
      pod_id: 'uid-pod1',
    });
    expect(out?.sets.map((s) => s.key).sort()).toEqual([
      'namespace:ns1/pod:pod1',
      'namespace:ns1/pod:pod1/container:c1',
      'namespace:ns1/pod:pod1/container:nginx',
    ]);
  });

  it('pod only: creates stub sets for both spec containers', async () => {
    const [out] = batchesOf(await runProcessor(enricher([A7_POD]), {}, [nodeBatch('n1', 1, [pod])]));
    expect(setByKey(out, 'namespace:ns1/pod:pod1/container:c1').values.get('cpu/request')).toBe(100);
    expect(setByKey(out, 'namespace:ns1/pod:pod1/container:c1').values.get('restart_count')).toBeUndefined();
    expect(setByKey(out, 'namespace:ns1/pod:pod1/container:nginx').values.get('cpu/limit')).toBe(2222);
  });

  it('gives each stub its own values object, which the next stage may fill in place', async () => {
    const stubKey = 'namespace:ns1/pod:pod1/container:nginx';
    const pods = () => podSet('ns1', 'pod1', 'n1', { labels: nodeLabels });
    const out = batchesOf(
      await runProcessor(enricher([A7_POD]), {}, [
        nodeBatch('n1', 1, [pods()]),
        nodeBatch('n1', 2, [pods()]),
      ]),
    );
    const [first, second] = out.map((b) => setByKey(b, stubKey).values);
    expect(first).toEqual(second);
    expect(first).not.toBe(second);
  });

  it('stub_sets: false adds no set', async () => {
    const [out] = batchesOf(
      await runProcessor(enricher([A7_POD], { stub_sets: false }), {}, [nodeBatch('n1', 1, [c1])]),
    );
    expect(out?.sets).toHaveLength(1);
    expect(out?.sets[0]?.values.get('cpu/request')).toBe(100);
  });
});

describe('pod_enricher (Heapster B3 labels and values)', () => {
  it('enriches app and side, stubs notrunning, with stored labels and the workload', async () => {
    const op = enricher([B3_POD], { store_labels: ['app'], ignore_labels: ['tier'] });
    const app = containerSet('ns1', 'web', 'app', 'n1', {
      values: { 'cpu/usage_rate': 300 },
      labels: nodeLabels,
    });
    const side = containerSet('ns1', 'web', 'side', 'n1', {
      values: { 'cpu/usage_rate': 20 },
      labels: nodeLabels,
    });
    const [out] = batchesOf(await runProcessor(op, {}, [nodeBatch('n1', 1, [app, side])]));
    expect(setByKey(out, 'namespace:ns1/pod:web/container:app').values).toEqual({
      'cpu/usage_rate': 300,
      'cpu/request': 250,
      'cpu/limit': 1000,
      'memory/request': 134217728,
      'memory/limit': 268435456,
      'ephemeral_storage/request': 0,
      'ephemeral_storage/limit': 0,
      restart_count: 3,
    });
    expect(setByKey(out, 'namespace:ns1/pod:web/container:app').labels).toMatchObject({
      container_base_image: 'img/app:1',
      pod_id: 'pod-uid',
      labels: 'app:web',
      app: 'web',
      workload_kind: 'Deployment',
      workload_name: 'web',
    });
    const sideOut = setByKey(out, 'namespace:ns1/pod:web/container:side');
    expect(sideOut.values).toMatchObject({
      'cpu/request': 50,
      'nvidia.com/gpu/request': 1,
      'cpu/limit': 0,
      restart_count: 1,
    });
    const stub = setByKey(out, 'namespace:ns1/pod:web/container:notrunning');
    expect(stub.values).toEqual({
      'cpu/request': 0,
      'cpu/limit': 0,
      'memory/request': 0,
      'memory/limit': 0,
      'ephemeral_storage/request': 0,
      'ephemeral_storage/limit': 0,
    });
    expect(stub.labels).toMatchObject({ container_base_image: 'img/x:1', labels: 'app:web', app: 'web' });
    expect(setByKey(out, 'namespace:ns1/pod:web').labels).toMatchObject({
      nodename: 'n1',
      hostname: 'n1.host',
      host_id: 'hid',
      pod_id: 'pod-uid',
      labels: 'app:web',
      app: 'web',
    });
  });

  it('keeps an image the source already gave, and leaves pods unknown to the API server untouched', async () => {
    const op = enricher([B3_POD], { workload_labels: false });
    const app = containerSet('ns1', 'web', 'app', 'n1', { labels: { container_base_image: 'from-kubelet' } });
    const stranger = containerSet('ns1', 'other', 'x', 'n1');
    const [out] = batchesOf(await runProcessor(op, {}, [nodeBatch('n1', 1, [app, stranger])]));
    const appOut = setByKey(out, 'namespace:ns1/pod:web/container:app');
    expect(appOut.labels.container_base_image).toBe('from-kubelet');
    expect(appOut.labels.workload_kind).toBeUndefined();
    expect(out?.sets[1]).toBe(stranger);
    expect(out?.sets.find((s) => s.key === 'namespace:ns1/pod:other')).toBeUndefined();
  });

  it('does not enrich a scraped pod whose uid differs from the API server’s (recreated under the same name)', async () => {
    const batch = nodeBatch('n1', 1, [
      containerSet('ns1', 'web', 'app', 'n1', { labels: { pod_id: 'old-uid' } }),
    ]);
    const [out] = await runProcessor(enricher([B3_POD]), {}, [batch]);
    expect(out).toBe(batch);
  });

  it('passes cycle marks on and reuses the batch when no pod is known', async () => {
    const batch = nodeBatch('n1', 1, [containerSet('ns1', 'x', 'c', 'n1')]);
    const mark = cycleEnd(1, 1);
    const out = await runProcessor(enricher([]), {}, [batch, mark]);
    expect(out[0]).toBe(batch);
    expect(out[1]).toBe(mark);
  });

  it('rejects unknown keys and malformed store_labels', () => {
    expect(podEnricherConfig.safeParse({ store_label: ['a'] }).success).toBe(false);
    expect(podEnricherConfig.safeParse({ store_labels: ['a=b=c'] }).success).toBe(false);
    expect(podEnricherConfig.parse({}).label_separator).toBe(',');
  });
});

describe('pod_enricher on a real payload (nri-1.34) against Heapster’s output', () => {
  it('gives every container the requests, limits, restart count, image and labels Heapster gave', async () => {
    const node = 'datagen-1-34';
    const sets = decodeSummary(JSON.parse(fixtureText('kubelet/nri-1.34/stats-summary.json')), {
      name: node,
    });
    const ctx = testContext({ metadata: fixtureMetadata('nri-1.34', node) });
    const [out] = (await runProcessor(podEnricher.create(podEnricherConfig.parse({}), ctx), {}, [
      nodeBatch(node, 1, sets),
    ])) as MetricBatch[];
    const measured = new Set([
      'cpu/request',
      'cpu/limit',
      'memory/request',
      'memory/limit',
      'ephemeral_storage/request',
      'ephemeral_storage/limit',
      'restart_count',
    ]);
    const golden = goldenPoints('nri-1.34').filter(
      (p) => p.tags.type === 'pod_container' && measured.has(p.measurement),
    );
    expect(golden.length).toBeGreaterThan(100);
    for (const p of golden) {
      const key = `namespace:${p.tags.namespace_name}/pod:${p.tags.pod_name}/container:${p.tags.container_name}`;
      const set = setByKey(out, key);
      expect([key, p.measurement, set.values.get(p.measurement)]).toEqual([key, p.measurement, p.value]);
      expect([key, set.labels.labels, set.labels.container_base_image]).toEqual([
        key,
        p.tags.labels,
        p.tags.container_base_image,
      ]);
    }
    const ours = out?.sets.filter((s) => s.type === 'pod_container') ?? [];
    const goldenContainers = new Set(golden.map((p) => `${p.tags.pod_name}/${p.tags.container_name}`));
    expect(ours.length).toBe(goldenContainers.size);
  });
});

describe('pod_enricher follows the metadata cache from cycle to cycle', () => {
  const pods = (JSON.parse(fixtureText('kubelet/nri-1.24/pods.json')) as { items: KubeObject[] }).items;
  const name = 'e2e-depl-7dfd7fb8f5-lg5vs';
  const raw = pods.find((p) => (p.metadata as { name?: string }).name === name) as KubeObject;
  const container = (raw.spec as { containers: { name: string }[] }).containers[0]?.name ?? '';

  function setup() {
    const cache = new MetadataCache('watch');
    for (const pod of pods) cache.pods.upsert(pod);
    const op = podEnricher.create(podEnricherConfig.parse({}), testContext({ metadata: cache }));
    const input = new Subject<PipelineEvent>();
    let out: PipelineEvent[] = [];
    op(input).subscribe((e) => out.push(e));
    // Each cycle's sets are new objects with the same content, as each scrape decodes them.
    const cycle = (n: number) => {
      out = [];
      input.next(
        nodeBatch('n1', n, [
          podSet('scraper', name, 'n1', { labels: nodeLabels }),
          containerSet('scraper', name, container, 'n1', { labels: nodeLabels }),
        ]),
      );
      input.next(cycleEnd(n, 1));
      const [batch] = batchesOf(out);
      return {
        pod: setByKey(batch, `namespace:scraper/pod:${name}`).labels,
        container: setByKey(batch, `namespace:scraper/pod:${name}/container:${container}`).labels,
      };
    };
    return { cache, cycle };
  }

  it('builds new labels when the pod’s labels change', () => {
    const { cache, cycle } = setup();
    const first = cycle(1);
    const meta = raw.metadata as { labels?: Record<string, string> };
    cache.pods.upsert({ ...raw, metadata: { ...meta, labels: { ...meta.labels, tier: 'gold' } } });
    const second = cycle(2);
    expect(second.pod.labels).toContain('tier:gold');
    expect(second.container.labels).toContain('tier:gold');
    expect(first.pod.labels).not.toContain('tier:gold');
  });

  it('follows an owner the metadata cache resolves again in place (a ReplicaSet that arrives later)', () => {
    const { cache, cycle } = setup();
    expect(cycle(1).container.workload_name).toBe('e2e-depl');
    cache.replicaSetStore.upsert({
      metadata: {
        name: 'e2e-depl-7dfd7fb8f5',
        namespace: 'scraper',
        ownerReferences: [{ kind: 'Deployment', name: 'renamed-deployment', controller: true }],
      },
    });
    const second = cycle(2);
    expect(second.pod.workload_name).toBe('renamed-deployment');
    expect(second.container.workload_name).toBe('renamed-deployment');
  });
});
