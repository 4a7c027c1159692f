import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MetadataCache } from './metadata-cache.js';
import type { KubeObject } from './reflector.js';

const fixture = (file: string) =>
  new URL(`../../../shared/fixtures/kubelet/nri-1.24/${file}`, import.meta.url);
const pods = (JSON.parse(readFileSync(fixture('pods.json'), 'utf8')) as { items: KubeObject[] }).items;
const nodes = (parseYaml(readFileSync(fixture('nodes.yaml'), 'utf8')) as { items: KubeObject[] }).items;

function loaded(owners: 'name' | 'watch' = 'name'): MetadataCache {
  const cache = new MetadataCache(owners);
  for (const pod of pods) cache.pods.upsert(pod);
  for (const node of nodes) cache.nodeStore.upsert(node);
  return cache;
}

const rename = (pod: KubeObject, name: string): KubeObject => ({
  ...pod,
  metadata: { ...(pod.metadata as object), name },
});

describe('MetadataCache on a real pod list (nri-1.24)', () => {
  it('parses requests and limits into millicores and bytes', () => {
    const cache = loaded();
    const coredns = cache.pod('kube-system', 'coredns-57575c5f89-lznph');
    expect(coredns?.containers).toEqual([
      {
        name: 'coredns',
        image: expect.stringContaining('coredns') as string,
        requests: { cpu: 100, memory: 70 * 2 ** 20 },
        limits: { memory: 170 * 2 ** 20 },
      },
    ]);
    // Decimal suffixes are powers of ten: 5M is 5,000,000 bytes.
    expect(cache.pod('scraper', 'e2e-container-creating')?.containers[0]?.limits).toEqual({
      cpu: 5,
      memory: 5e6,
    });
    expect(coredns?.nodeName).toBe('datagen-1-24');
    expect(coredns?.restartCounts).toEqual({ coredns: 0 });
    expect(typeof coredns?.startTime).toBe('number');
  });

  it('resolves owners by naming rules: ReplicaSet → Deployment, Job → CronJob, others as they are', () => {
    const cache = loaded();
    expect(cache.pod('scraper', 'e2e-depl-7dfd7fb8f5-lg5vs')?.owner).toEqual({
      kind: 'Deployment',
      name: 'e2e-depl',
    });
    expect(cache.pod('scraper', 'e2e-cronjob-28233615-hvpds')?.owner).toEqual({
      kind: 'CronJob',
      name: 'e2e-cronjob',
    });
    expect(cache.pod('scraper', 'e2e-failjob-rnjv6')?.owner).toEqual({ kind: 'Job', name: 'e2e-failjob' });
    expect(cache.pod('scraper', 'e2e-statefulset-0')?.owner).toEqual({
      kind: 'StatefulSet',
      name: 'e2e-statefulset',
    });
    expect(cache.pod('kube-system', 'etcd-datagen-1-24')?.owner).toBeUndefined();
  });

  it('with owners: watch, follows ReplicaSets that arrive after their pods', () => {
    const cache = loaded('watch');
    const name = 'e2e-depl-7dfd7fb8f5-lg5vs';
    expect(cache.pod('scraper', name)?.owner).toEqual({ kind: 'Deployment', name: 'e2e-depl' });
    cache.replicaSetStore.upsert({
      metadata: {
        name: 'e2e-depl-7dfd7fb8f5',
        namespace: 'scraper',
        ownerReferences: [{ kind: 'Deployment', name: 'renamed-deployment', controller: true }],
      },
    });
    expect(cache.pod('scraper', name)?.owner).toEqual({ kind: 'Deployment', name: 'renamed-deployment' });
    cache.replicaSetStore.upsert({ metadata: { name: 'e2e-depl-7dfd7fb8f5', namespace: 'scraper' } });
    expect(cache.pod('scraper', name)?.owner).toEqual({ kind: 'ReplicaSet', name: 'e2e-depl-7dfd7fb8f5' });
  });

  it('shares equal label sets and container lists, and releases them when pods go', () => {
    const cache = loaded();
    const a = cache.pod('scraper', 'e2e-depl-7dfd7fb8f5-lg5vs');
    const b = cache.pod('scraper', 'e2e-depl-7dfd7fb8f5-hzd2k');
    expect(a?.labels).toBe(b?.labels);
    expect(a?.containers).toBe(b?.containers);
    const sharedBefore = cache.stats().sharedLabelSets;
    cache.pods.remove(
      pods.find((p) => (p.metadata as { name: string }).name === 'e2e-depl-7dfd7fb8f5-lg5vs') ?? {},
    );
    expect(cache.stats().sharedLabelSets).toBe(sharedBefore); // the other replica still holds it
    cache.pods.remove(
      pods.find((p) => (p.metadata as { name: string }).name === 'e2e-depl-7dfd7fb8f5-hzd2k') ?? {},
    );
    expect(cache.stats().sharedLabelSets).toBe(sharedBefore - 1);
    expect(cache.stats().pods).toBe(pods.length - 2);
  });

  it('retain drops what a re-list no longer has; an update replaces a pod in place', () => {
    const cache = loaded();
    const first = pods[0] ?? {};
    cache.pods.upsert(rename(first, 'extra-pod'));
    expect(cache.stats().pods).toBe(pods.length + 1);
    cache.pods.retain(new Set(['scraper/extra-pod', 'kube-system/coredns-57575c5f89-lznph']));
    expect(cache.stats().pods).toBe(2);
    expect(cache.pod('scraper', 'extra-pod')).toBeDefined();
    expect(cache.pod('scraper', 'e2e-depl-7dfd7fb8f5-lg5vs')).toBeUndefined();
    cache.pods.upsert(rename(first, 'extra-pod'));
    expect(cache.stats().pods).toBe(2);
  });

  it('keeps node capacity and allocatable parsed', () => {
    const node = loaded().node('datagen-1-24');
    expect(node?.labels['kubernetes.io/hostname']).toBe('datagen-1-24');
    expect(node?.capacity.cpu).toBeGreaterThanOrEqual(1000);
    expect(node?.allocatable.memory).toBeGreaterThan(2 ** 30);
  });
});
