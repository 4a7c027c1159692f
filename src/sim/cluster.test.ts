import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulatedCluster, type SimulatedCluster, type SimulatedNode } from './cluster.js';

// A real scraper keeps connections open; so does this agent. Each test stops its own cluster.
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
afterAll(() => agent.close());

const started: SimulatedCluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

async function start(options: Parameters<typeof startSimulatedCluster>[0]): Promise<SimulatedCluster> {
  const cluster = await startSimulatedCluster(options);
  started.push(cluster);
  return cluster;
}

interface Summary {
  node: {
    nodeName: string;
    startTime: string;
    cpu: { time: string; usageNanoCores: number; usageCoreNanoSeconds: number };
    memory: { time: string; workingSetBytes: number; pageFaults: number };
    network: { time: string; name: string; rxBytes: number; txBytes: number };
    systemContainers: { name: string; cpu: { usageCoreNanoSeconds: number } }[];
  };
  pods: {
    podRef: { name: string; namespace: string; uid: string };
    startTime: string;
    cpu?: { usageNanoCores: number; usageCoreNanoSeconds: number };
    network?: { rxBytes: number; interfaces: { name: string; rxBytes: number }[] };
    containers: {
      name: string;
      startTime: string;
      cpu?: { time: string; usageNanoCores: number; usageCoreNanoSeconds: number };
      memory?: { workingSetBytes: number; pageFaults: number };
    }[];
  }[];
}

function url(node: SimulatedNode, path = '/stats/summary'): string {
  return `http://${node.address}:${node.port}${path}`;
}

async function get(node: SimulatedNode, path?: string): Promise<{ status: number; text: string }> {
  const response = await request(url(node, path), { dispatcher: agent });
  return { status: response.statusCode, text: await response.body.text() };
}

async function scrape(node: SimulatedNode): Promise<Summary> {
  const { status, text } = await get(node);
  expect(status).toBe(200);
  return JSON.parse(text) as Summary;
}

const T0 = Date.parse('2030-03-01T12:00:00.000Z');

describe('startSimulatedCluster', () => {
  it('serves each node on its own loopback address and one shared port, named after the node', async () => {
    const cluster = await start({ nodes: 3, seed: 1 });
    expect(cluster.nodes.map((n) => n.address)).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(cluster.nodes.map((n) => n.name)).toEqual(['sim-node-001', 'sim-node-002', 'sim-node-003']);
    expect(cluster.port).toBeGreaterThan(0);
    expect(new Set(cluster.nodes.map((n) => n.port))).toEqual(new Set([cluster.port]));
    for (const node of cluster.nodes) {
      const summary = await scrape(node);
      expect(summary.node.nodeName).toBe(node.name);
      expect(summary.pods.length).toBeGreaterThan(10);
      for (const pod of summary.pods) expect(pod.podRef.name).toMatch(new RegExp(`${node.name.slice(-3)}$`));
      expect(cluster.requests(node.name)).toBe(1);
    }
  });

  it('advances counters and sample times with the clock', async () => {
    let now = T0;
    const cluster = await start({ nodes: 2, seed: 5, restartEvery: 0, now: () => now });
    const node = cluster.nodes[0]!;
    const first = await scrape(node);
    now += 15_000;
    const second = await scrape(node);
    expect(first.node.cpu.time).toBe('2030-03-01T12:00:00.000Z');
    expect(second.node.cpu.time).toBe('2030-03-01T12:00:15.000Z');
    expect(second.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(first.node.cpu.usageCoreNanoSeconds);
    expect(second.node.network.rxBytes).toBeGreaterThan(first.node.network.rxBytes);
    expect(second.node.memory.pageFaults).toBeGreaterThan(first.node.memory.pageFaults);
    // Over 15 s the node's CPU counter grows by about 15 × its usage rate (± the per-scrape noise on the rate).
    const grown = (second.node.cpu.usageCoreNanoSeconds - first.node.cpu.usageCoreNanoSeconds) / 15;
    expect(grown / second.node.cpu.usageNanoCores).toBeGreaterThan(0.85);
    expect(grown / second.node.cpu.usageNanoCores).toBeLessThan(1.15);
    let containers = 0;
    second.pods.forEach((pod, p) => {
      pod.containers.forEach((container, c) => {
        const before = first.pods[p]!.containers[c]!;
        if (!container.cpu || !before.cpu) return;
        containers++;
        expect(container.cpu.usageCoreNanoSeconds).toBeGreaterThan(before.cpu.usageCoreNanoSeconds);
        expect(container.cpu.time).toBe(second.node.cpu.time);
        expect(container.startTime).toBe(before.startTime);
        expect(Date.parse(container.startTime)).toBeLessThan(now);
      });
    });
    expect(containers).toBeGreaterThan(10);
  });

  it('adds containers up to pods and pods up to the node', async () => {
    const cluster = await start({ nodes: 1, seed: 9, restartEvery: 0, now: () => T0 + 60_000 });
    const summary = await scrape(cluster.nodes[0]!);
    let podSum = 0;
    for (const pod of summary.pods) {
      const containerSum = pod.containers.reduce((s, c) => s + (c.cpu?.usageNanoCores ?? 0), 0);
      if (pod.cpu) expect(pod.cpu.usageNanoCores).toBeGreaterThanOrEqual(containerSum);
      podSum += pod.cpu?.usageNanoCores ?? 0;
      // The default interface appears twice; both copies carry the same counter.
      const eth = pod.network?.interfaces.find((i) => i.name === 'eth0');
      if (pod.network && eth) expect(eth.rxBytes).toBe(pod.network.rxBytes);
    }
    expect(summary.node.cpu.usageNanoCores).toBeGreaterThan(podSum);
  });

  it('restarts containers now and then: new start time, counters reset, restart counted in metadata', async () => {
    let now = T0;
    const cluster = await start({ nodes: 1, seed: 3, restartEvery: 3, now: () => now });
    const node = cluster.nodes[0]!;
    let previous = await scrape(node);
    let restarts = 0;
    for (let i = 0; i < 6; i++) {
      now += 10_000;
      const current = await scrape(node);
      current.pods.forEach((pod, p) => {
        pod.containers.forEach((container, c) => {
          const before = previous.pods[p]!.containers[c]!;
          if (container.startTime === before.startTime) return;
          restarts++;
          expect(Date.parse(container.startTime)).toBeGreaterThan(Date.parse(before.startTime));
          expect(Date.parse(container.startTime)).toBeLessThanOrEqual(now);
          // Without the reset the counter would hold at least 10 s of usage since the last scrape; now under 1 s.
          if (container.cpu) {
            expect(container.cpu.usageCoreNanoSeconds).toBeLessThan(container.cpu.usageNanoCores);
          }
          if (container.memory && before.memory) {
            expect(container.memory.pageFaults).toBeLessThan(before.memory.pageFaults + 1);
          }
          const meta = cluster.metadata().pod(pod.podRef.namespace, pod.podRef.name);
          expect(meta?.restartCounts[container.name]).toBeGreaterThan(0);
        });
      });
      previous = current;
    }
    expect(restarts).toBeGreaterThan(5);
  });

  it('describes the same pods in metadata() as in the summaries', async () => {
    const cluster = await start({ nodes: 3, seed: 2 });
    const metadata = cluster.metadata();
    let withCpuRequest = 0;
    for (const node of cluster.nodes) {
      const summary = await scrape(node);
      for (const pod of summary.pods) {
        const meta = metadata.pod(pod.podRef.namespace, pod.podRef.name);
        expect(meta?.uid).toBe(pod.podRef.uid);
        expect(meta?.nodeName).toBe(node.name);
        expect(meta?.namespace).toBe(pod.podRef.namespace);
        for (const container of pod.containers) {
          expect(meta?.containers.map((c) => c.name)).toContain(container.name);
        }
        if ((meta?.containers[0]?.requests.cpu ?? 0) > 0) withCpuRequest++;
        expect(metadata.namespace(pod.podRef.namespace)?.name).toBe(pod.podRef.namespace);
      }
      const nodeMeta = metadata.node(node.name);
      expect(nodeMeta?.capacity.cpu).toBeGreaterThan(0);
      expect(nodeMeta?.allocatable.memory).toBeGreaterThan(1e9);
      expect(nodeMeta?.labels['kubernetes.io/hostname']).toBe(node.name);
    }
    expect(withCpuRequest).toBeGreaterThan(10);
    const kubeProxy = metadata.pod('kube-system', 'kube-proxy-nz2nc-001');
    expect(kubeProxy?.owner).toEqual({ kind: 'DaemonSet', name: 'kube-proxy' });
    expect(metadata.pod('kube-system', 'coredns-66bc5c9577-d98t2-001')?.owner).toEqual({
      kind: 'Deployment',
      name: 'coredns',
    });
    expect(metadata.pod('kube-system', 'no-such-pod')).toBeUndefined();
    expect(metadata.node('no-such-node')).toBeUndefined();
  });

  it('replicates template pods to reach podsPerNode, with unique names and uids', async () => {
    const cluster = await start({ nodes: 2, podsPerNode: 110, seed: 4, templates: ['nri-1.34'] });
    const [a, b] = await Promise.all(cluster.nodes.map((n) => scrape(n)));
    expect(a!.pods).toHaveLength(110);
    const keys = [...a!.pods, ...b!.pods].map((p) => `${p.podRef.namespace}/${p.podRef.name}`);
    expect(new Set(keys).size).toBe(220);
    expect(new Set([...a!.pods, ...b!.pods].map((p) => p.podRef.uid)).size).toBe(220);
    expect(a!.pods.map((p) => p.podRef.name)).toContain('coredns-66bc5c9577-d98t2-1-001');
    expect(a!.pods.filter((p) => p.podRef.name.startsWith('kube-apiserver-'))).toHaveLength(1);
    const few = await start({ nodes: 1, podsPerNode: 5, seed: 4 });
    expect((await scrape(few.nodes[0]!)).pods).toHaveLength(5);
  });

  it('gives the same payloads for the same seed and clock', async () => {
    const options = { nodes: 2, seed: 11, now: () => T0 };
    const [x, y] = [await start(options), await start(options)];
    expect((await get(x.nodes[1]!)).text).toBe((await get(y.nodes[1]!)).text);
  });

  it('serves only GET /stats/summary (with or without the slash or a query)', async () => {
    const cluster = await start({ nodes: 1 });
    const node = cluster.nodes[0]!;
    expect((await get(node, '/stats/summary/')).status).toBe(200);
    expect((await get(node, '/stats/summary?only_cpu_and_memory=true')).status).toBe(200);
    expect((await get(node, '/metrics')).status).toBe(404);
    expect((await get(node, '/stats/summaryX')).status).toBe(404);
    const post = await request(url(node), { method: 'POST', dispatcher: agent });
    await post.body.text();
    expect(post.statusCode).toBe(404);
    expect(cluster.requests(node.name)).toBe(2);
    expect(() => cluster.requests('sim-node-999')).toThrow(/no node "sim-node-999"/);
  });

  describe('faults', () => {
    it('slow: answers correctly after the delay', async () => {
      const cluster = await start({ nodes: 2 });
      cluster.setFault('sim-node-001', { kind: 'slow', delayMs: 300 });
      const begin = performance.now();
      const summary = await scrape(cluster.nodes[0]!);
      expect(performance.now() - begin).toBeGreaterThanOrEqual(290);
      expect(summary.node.nodeName).toBe('sim-node-001');
    });

    it('status: answers with that status', async () => {
      const cluster = await start({ nodes: 2 });
      cluster.setFault('sim-node-002', { kind: 'status', status: 503 });
      const { status, text } = await get(cluster.nodes[1]!);
      expect(status).toBe(503);
      expect(text).toContain('sim-node-002');
    });

    it('truncated: the body ends before its content-length', async () => {
      const cluster = await start({ nodes: 1 });
      cluster.setFault('sim-node-001', { kind: 'truncated' });
      await expect(get(cluster.nodes[0]!)).rejects.toThrow();
      expect(cluster.requests('sim-node-001')).toBe(1);
    });

    it('reset: the connection is destroyed without an answer', async () => {
      const cluster = await start({ nodes: 1 });
      cluster.setFault('sim-node-001', { kind: 'reset' });
      await expect(get(cluster.nodes[0]!)).rejects.toThrow(/other side closed|socket|ECONNRESET/i);
    });

    it('garbage: 200 with a body that is not JSON', async () => {
      const cluster = await start({ nodes: 1 });
      cluster.setFault('sim-node-001', { kind: 'garbage' });
      const { status, text } = await get(cluster.nodes[0]!);
      expect(status).toBe(200);
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });

    it('hits only the faulty node, and clearing the fault heals it', async () => {
      const cluster = await start({ nodes: 3 });
      cluster.setFault('sim-node-002', { kind: 'reset' });
      expect((await scrape(cluster.nodes[0]!)).node.nodeName).toBe('sim-node-001');
      expect((await scrape(cluster.nodes[2]!)).node.nodeName).toBe('sim-node-003');
      await expect(get(cluster.nodes[1]!)).rejects.toThrow();
      cluster.setFault('sim-node-002', undefined);
      expect((await scrape(cluster.nodes[1]!)).node.nodeName).toBe('sim-node-002');
      expect(() => cluster.setFault('nope', { kind: 'garbage' })).toThrow(/no node "nope"/);
    });
  });

  it('stop() closes every server, even with connections kept alive', async () => {
    const cluster = await startSimulatedCluster({ nodes: 3 });
    for (const node of cluster.nodes) await scrape(node);
    await cluster.stop();
    await cluster.stop();
    for (const node of cluster.nodes) {
      await expect(
        new Promise((resolve, reject) => {
          const socket = connect(node.port, node.address, () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('rejects bad options, naming each', async () => {
    await expect(startSimulatedCluster({ nodes: 0, podsPerNode: -1 })).rejects.toThrow(
      /simulated.nodes: must be a positive integer[\s\S]*simulated.pods_per_node/,
    );
    await expect(startSimulatedCluster({ nodes: 1, templates: ['nri-9.99'] })).rejects.toThrow(
      /template "nri-9.99"/,
    );
  });

  it('starts 500 nodes × 30 pods (time printed, not asserted)', async () => {
    const begin = performance.now();
    const cluster = await start({ nodes: 500, podsPerNode: 30 });
    const startMs = performance.now() - begin;
    const last = cluster.nodes[499]!;
    expect(last.address).toBe('127.0.2.246');
    const summary = await scrape(last);
    expect(summary.pods).toHaveLength(30);
    console.log(`simulator: 500 nodes × 30 pods started in ${startMs.toFixed(0)} ms`);
  }, 60_000);
});
