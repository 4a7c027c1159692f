import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import { silentLogger } from '../src/component/logger.js';
import { kubernetesDiscoverySchema } from '../src/kube/discovery-config.js';
import { kubeletAccess } from '../src/kube/kubelet-access.js';
import { KubeletClient } from '../src/kube/kubelet-client.js';
import { KubernetesDiscovery } from '../src/kube/kubernetes-discovery.js';
import type { MetadataCache } from '../src/kube/metadata-cache.js';
import { startSimulatedControlPlane, type SimulatedControlPlane } from '../src/sim/apiserver/index.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';

let sim: SimulatedCluster;
let plane: SimulatedControlPlane;
let dir: string;
const clock = { now: () => Date.now(), scheduler: asyncScheduler };
const logger = silentLogger();

beforeAll(async () => {
  sim = await startSimulatedCluster({ nodes: 3, seed: 5, firstAddress: '127.0.4.1', podsPerNode: 6 });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-plane-'));
  plane = await startSimulatedControlPlane({
    nodes: sim.nodes,
    metadata: sim.metadata(),
    dir,
    churnEveryMs: 40,
  });
}, 60_000);

afterAll(async () => {
  await plane.stop();
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the simulator control plane (what `heapstream simulate` starts)', () => {
  it('serves a kubeconfig whose defaults scrape every HTTPS kubelet and feed the metadata cache', async () => {
    const d = new KubernetesDiscovery(kubernetesDiscoverySchema.parse({ kubeconfig: plane.kubeconfigPath }), {
      defaultPort: 10250,
      provideMetadata: () => undefined,
      env: {},
      clock,
      logger,
    });
    await d.start();
    const client = new KubeletClient(
      {
        timeoutMs: 5000,
        maxResponseBytes: 64 << 20,
        ...kubeletAccess({ scheme: 'https', via: 'direct' }, d, { baseDir: dir, clock, logger }),
      },
      clock,
    );
    try {
      // Churn takes nodes away for one step at a time: wait for all three to be listed.
      await eventually(() => d.nodes().length === 3, 'three nodes');
      const cache = d.metadata as MetadataCache;
      for (const node of d.nodes()) {
        expect(node.address).toMatch(/^127\.0\.4\./);
        expect(node.port).not.toBe(sim.port); // the HTTPS front, from daemonEndpoints
        const payload = JSON.parse(await client.get(node, '/stats/summary')) as {
          pods: { podRef: { name: string; namespace: string } }[];
        };
        const sets = decodeSummary(payload, { name: node.name });
        expect(sets.length).toBeGreaterThan(6);
        const known = payload.pods.filter((p) => cache.pod(p.podRef.namespace, p.podRef.name) !== undefined);
        expect(known.length).toBeGreaterThan(0);
      }
    } finally {
      await client.close();
      await d.stop();
    }
  });

  it('churns pods and nodes, and the cache follows the API server', async () => {
    const d = new KubernetesDiscovery(kubernetesDiscoverySchema.parse({ kubeconfig: plane.kubeconfigPath }), {
      defaultPort: 10250,
      provideMetadata: () => undefined,
      env: {},
      clock,
      logger,
    });
    await d.start();
    try {
      const cache = d.metadata as MetadataCache;
      const seen = new Set<number>();
      await eventually(() => {
        seen.add(d.nodes().length);
        return seen.has(2) && seen.has(3);
      }, 'a node leaving and rejoining');
      const firstNames = new Set(plane.api.state.list('pods').map((p) => p.metadata.name));
      await eventually(
        () => plane.api.state.list('pods').some((p) => !firstNames.has(p.metadata.name)),
        'a pod to be replaced',
      );
      // Replaced pods are in the cache under their new names, and the old names are gone.
      await eventually(() => {
        const apiPods = plane.api.state.list('pods');
        return (
          cache.stats().pods === apiPods.length &&
          apiPods.every((p) => cache.pod(p.metadata.namespace ?? '', p.metadata.name)?.uid === p.metadata.uid)
        );
      }, 'the cache to match the API server');
      expect(
        [...firstNames].some((name) => !plane.api.state.list('pods').some((p) => p.metadata.name === name)),
      ).toBe(true);
    } finally {
      await d.stop();
    }
  });
});
