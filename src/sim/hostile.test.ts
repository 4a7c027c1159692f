import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedCluster, type SimulatedCluster, type SimulatedNode } from './cluster.js';
import type { HostilePayload } from './hostile.js';

const started: SimulatedCluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

/** A two-node cluster whose first node sends `payload`; the second stays good. */
async function hostile(payload: HostilePayload, pods?: number): Promise<SimulatedCluster> {
  const cluster = await startSimulatedCluster({ nodes: 2, restartEvery: 0, templates: ['nri-1.24'] });
  started.push(cluster);
  cluster.setFault('sim-node-001', { kind: 'hostile', payload, ...(pods === undefined ? {} : { pods }) });
  return cluster;
}

async function get(node: SimulatedNode, path: string, method: 'GET' | 'POST' = 'GET'): Promise<string> {
  const response = await request(`http://${node.address}:${node.port}${path}`, {
    method,
    ...(method === 'POST'
      ? { body: '{"num_stats":1}', headers: { 'content-type': 'application/json' } }
      : {}),
  });
  expect(response.statusCode).toBe(200);
  return response.body.text();
}

describe('hostile simulated kubelets', () => {
  it('uint64_sentinel: the kubelet\'s "unknown" and 1.2e32, on the JSON and Prometheus endpoints', async () => {
    const cluster = await hostile('uint64_sentinel');
    const [bad, good] = cluster.nodes as [SimulatedNode, SimulatedNode];
    const summary = await get(bad, '/stats/summary');
    expect(summary).toMatch(/"capacityBytes":18446744073709551615[,}]/);
    expect(summary).toContain('"usageBytes":1.2e+32');
    expect(await get(bad, '/metrics/cadvisor')).toContain(' 1.2e+32');
    expect(await get(good, '/stats/summary')).not.toContain('18446744073709551615');
  });

  it('label_types: pod labels that are a number and an array, in cAdvisor spec.labels and Summary podRef', async () => {
    const cluster = await hostile('label_types');
    const bad = cluster.nodes[0]!;
    const infos = JSON.parse(await get(bad, '/stats/container/', 'POST')) as Record<
      string,
      { spec: { labels?: Record<string, unknown> } }
    >;
    const labels = Object.values(infos).flatMap((info) => (info.spec.labels ? [info.spec.labels] : []));
    expect(labels.some((l) => l['io.kubernetes.pod.name'] === 12345)).toBe(true);
    expect(labels.some((l) => Array.isArray(l['io.kubernetes.pod.namespace']))).toBe(true);
    const summary = JSON.parse(await get(bad, '/stats/summary')) as {
      pods: { podRef: Record<string, unknown> }[];
    };
    expect(summary.pods[0]!.podRef['name']).toBe(12345);
    expect(summary.pods[1]!.podRef['namespace']).toEqual(['kube-system', 'default']);
  });

  it('negative_counters: CPU and network counters below zero on every endpoint', async () => {
    const cluster = await hostile('negative_counters');
    const bad = cluster.nodes[0]!;
    const summary = JSON.parse(await get(bad, '/stats/summary')) as {
      node: { cpu: { usageCoreNanoSeconds: number } };
    };
    expect(summary.node.cpu.usageCoreNanoSeconds).toBeLessThan(0);
    const text = await get(bad, '/metrics/cadvisor');
    expect(text).toMatch(/^container_cpu_usage_seconds_total\{[^}]*\} -\d/m);
  });

  it('only_nan: every Prometheus sample is NaN, every JSON number null', async () => {
    const cluster = await hostile('only_nan');
    const bad = cluster.nodes[0]!;
    for (const path of ['/metrics/resource', '/metrics/cadvisor']) {
      const samples = (await get(bad, path)).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(samples.length).toBeGreaterThan(10);
      for (const line of samples) expect(line).toMatch(/ NaN( \d+)?$/);
    }
    const numbers: number[] = [];
    JSON.parse(await get(bad, '/stats/summary'), (_key, value: unknown) => {
      if (typeof value === 'number') numbers.push(value);
      return value;
    });
    expect(numbers).toEqual([]);
  });

  it('huge: as many pods as asked for, each with its own name', async () => {
    const cluster = await hostile('huge', 500);
    const summary = JSON.parse(await get(cluster.nodes[0]!, '/stats/summary')) as {
      pods: { podRef: { name: string; uid: string } }[];
    };
    expect(summary.pods).toHaveLength(500);
    expect(new Set(summary.pods.map((p) => p.podRef.name)).size).toBe(500);
    expect(new Set(summary.pods.map((p) => p.podRef.uid)).size).toBe(500);
  });

  it('endless: a 200 whose body keeps trickling, until the cluster stops', async () => {
    const cluster = await hostile('endless');
    const bad = cluster.nodes[0]!;
    const response = await request(`http://${bad.address}:${bad.port}/metrics/cadvisor`);
    expect(response.statusCode).toBe(200);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of response.body) received += (chunk as Buffer).length;
    })();
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(received).toBeGreaterThan(4);
    await cluster.stop();
    await expect(reading).rejects.toThrow();
  });
});
