/**
 * Measures the metadata cache's heap for N synthetic pods (default 150,000 on 5,000 nodes in 300 namespaces).
 * Each page goes through JSON text and back, as from the API server, so strings are fresh like in production.
 *
 *   node --expose-gc --import tsx bench/measure-metadata-memory.ts [pods]
 */
import { MetadataCache } from '../src/kube/metadata-cache.js';
import { syntheticNamespaces, syntheticPodPages } from '../src/sim/apiserver/synthetic.js';

const pods = Number(process.argv[2] ?? 150_000);
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with node --expose-gc');

function heap(): number {
  collect?.();
  collect?.();
  return process.memoryUsage().heapUsed;
}

const before = heap();
const cache = new MetadataCache('name');
const started = performance.now();
for (const ns of syntheticNamespaces()) cache.namespaceStore.upsert(JSON.parse(JSON.stringify(ns)) as never);
let rawBytes = 0;
for (const page of syntheticPodPages({ pods })) {
  const text = JSON.stringify(page);
  rawBytes += text.length;
  for (const pod of JSON.parse(text) as Record<string, unknown>[]) cache.pods.upsert(pod);
}
const loadMs = performance.now() - started;
const after = heap();
const stats = cache.stats();
const sample = cache.pod('ns-0', [...syntheticPodPages({ pods: 1 })][0]?.[0]?.metadata.name ?? '');
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
process.stdout.write(
  [
    `pods: ${stats.pods}, namespaces: ${stats.namespaces}, shared label sets: ${stats.sharedLabelSets}, ` +
      `shared container lists: ${stats.sharedContainerLists}`,
    `raw pod JSON: ${mib(rawBytes)} MiB; cache heap: ${mib(after - before)} MiB ` +
      `(${Math.round((after - before) / stats.pods)} bytes per pod); loaded in ${loadMs.toFixed(0)} ms`,
    `sample owner: ${JSON.stringify(sample?.owner)}, requests: ${JSON.stringify(sample?.containers[0]?.requests)}`,
  ].join('\n') + '\n',
);
