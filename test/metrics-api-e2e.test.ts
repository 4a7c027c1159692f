import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedControlPlane, type SimulatedControlPlane } from '../src/sim/apiserver/index.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { ensureDebianPackage } from './services/apt.js';
import { freeLoopbackPort } from './services/ports.js';
import { eventually as pollUntil } from './support/eventually.js';

// End to end, as a cluster runs it: `heapstream run` scrapes the simulated cluster's HTTPS kubelets found through
// its API server, and its metrics_api sink (delegated authentication, generated certificate) sits behind the
// simulator's aggregation layer, which proxies metrics.k8s.io with its front-proxy client certificate. A real
// kubectl, with the simulated cluster's kubeconfig, asks the API server; the numbers it prints must be the
// pipeline's own `cpu/usage_rate` and `memory/working_set` of the same cycle, which the same run writes as JSON Lines.

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const API = '/apis/metrics.k8s.io/v1beta1';

/** One JSON Lines record of the stdout sink. */
interface Line {
  readonly time: string;
  readonly type: string;
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly values: Record<string, number>;
}

interface Usage {
  readonly cpu: string;
  readonly memory: string;
}
interface NodeMetrics {
  readonly metadata: { readonly name: string };
  readonly timestamp: string;
  readonly usage: Usage;
}
interface PodMetrics {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly timestamp: string;
  readonly containers: readonly { readonly name: string; readonly usage: Usage }[];
}

let sim: SimulatedCluster;
let plane: SimulatedControlPlane;
let dir: string;
let kubectlPath: string;
let heapstream: ChildProcess;
let stdout = '';
let stderr = '';
let apiPort: number;

/** Nanocores of a metrics-server CPU quantity (`"123456n"`, or `"0"`). */
function nanocores(q: string): number {
  const m = /^(\d+)(n|u|m)?$/.exec(q);
  if (m === null) throw new Error(`unexpected cpu quantity ${q}`);
  const scale = { n: 1, u: 1e3, m: 1e6 }[m[2] as 'n' | 'u' | 'm'] ?? 1e9;
  return Number(m[1]) * scale;
}

/** Bytes of a metrics-server memory quantity (`"1234Ki"`, `"56Mi"` or plain bytes). */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (m === null) throw new Error(`unexpected memory quantity ${q}`);
  const scale = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1;
  return Number(m[1]) * scale;
}

/**
 * The pipeline's sets written so far, by `key@second`: the kubelet's sample time, which the API's `timestamp` is,
 * in whole seconds as Kubernetes writes times (cycles here are two seconds apart, so a second names one cycle).
 */
function pipelineSets(): Map<string, Line> {
  const sets = new Map<string, Line>();
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{"time"')) continue;
    const line = JSON.parse(text) as Line;
    sets.set(`${line.key}@${second(line.time)}`, line);
  }
  return sets;
}

const second = (time: string): number => Math.floor(Date.parse(time) / 1000);

const kubectl = async (...args: string[]): Promise<string> =>
  (
    await run(
      kubectlPath,
      ['--kubeconfig', plane.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), ...args],
      {
        timeout: 30_000,
      },
    )
  ).stdout;

/** Polls until `attempt` gives a value, giving up early if heapstream exits (its log in the error). */
function eventually<T>(what: string, attempt: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  return pollUntil(what, attempt, {
    ms,
    everyMs: 250,
    stopped: () => heapstream.exitCode !== null,
    context: () => `heapstream stderr:\n${stderr}`,
  });
}

beforeAll(async () => {
  // A real kubectl, as users run it: installed from Debian's package when absent.
  kubectlPath = await ensureDebianPackage('kubectl', 'kubectl');
  sim = await startSimulatedCluster({
    nodes: 3,
    podsPerNode: 4,
    seed: 21,
    firstAddress: '127.0.21.1',
    restartEvery: 0,
  });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-metrics-e2e-'));
  plane = await startSimulatedControlPlane({ nodes: sim.nodes, metadata: sim.metadata(), dir });
  apiPort = await freeLoopbackPort();
  const opsPort = await freeLoopbackPort();
  const config = join(dir, 'pipeline.yaml');
  await writeFile(
    config,
    [
      'resolution: 2s',
      plane.pipelineSource,
      'processors:',
      '  - type: rate',
      'sinks:',
      '  metrics:',
      '    type: metrics_api',
      `    listen: 127.0.0.1:${apiPort}`,
      `    kubernetes: { kubeconfig: ${plane.kubeconfigPath} }`,
      '  lines:',
      '    type: stdout',
      '    format: jsonl',
      '    select: { types: [node, pod_container] }',
      'server:',
      `  port: ${opsPort}`,
      '  address: 127.0.0.1',
      '',
    ].join('\n'),
  );
  heapstream = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  heapstream.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  heapstream.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // As deploy/apiservice.yaml: the sink's generated serving certificate is not verified by the aggregator.
  await plane.api.setAggregatedApis([
    {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      url: `https://127.0.0.1:${apiPort}`,
      insecureSkipTLSVerify: true,
    },
  ]);
  // Rates need two scrapes: wait until every node and pod is served (through the aggregation layer).
  await eventually('every node and pod in the metrics API', async () => {
    const nodes = JSON.parse(await kubectl('get', '--raw', `${API}/nodes`)) as { items: NodeMetrics[] };
    const pods = JSON.parse(await kubectl('get', '--raw', `${API}/pods`)) as { items: PodMetrics[] };
    return nodes.items.length === 3 && pods.items.length === 3 * 4 ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  if (heapstream !== undefined && heapstream.exitCode === null) {
    heapstream.kill('SIGTERM');
    await new Promise((r) => heapstream.once('exit', r));
  }
  await plane?.stop();
  await sim?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('kubectl top against heapstream behind the aggregation layer', () => {
  it('serves every node and pod with the pipeline’s own numbers of the same cycle (kubectl get --raw)', async () => {
    const nodes = (JSON.parse(await kubectl('get', '--raw', `${API}/nodes`)) as { items: NodeMetrics[] })
      .items;
    const pods = (JSON.parse(await kubectl('get', '--raw', `${API}/pods`)) as { items: PodMetrics[] }).items;
    // The sink and the JSON Lines sink get the same batch: wait until stdout has that cycle too.
    const sets = await eventually('the same cycle on stdout', () => {
      const s = pipelineSets();
      return Promise.resolve(
        nodes.every((n) => s.has(`node:${n.metadata.name}@${second(n.timestamp)}`)) ? s : undefined,
      );
    });
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(sim.nodes.map((n) => n.name).sort());
    for (const node of nodes) {
      const own = sets.get(`node:${node.metadata.name}@${second(node.timestamp)}`)!;
      // The API's nanocores from cumulative deltas, truncated; the pipeline's millicores, truncated too.
      expect(Math.abs(nanocores(node.usage.cpu) / 1e6 - own.values['cpu/usage_rate']!)).toBeLessThan(1);
      expect(bytes(node.usage.memory)).toBe(own.values['memory/working_set']);
    }
    expect(pods.length).toBe(3 * 4);
    let containers = 0;
    for (const pod of pods) {
      for (const c of pod.containers) {
        const key = `namespace:${pod.metadata.namespace}/pod:${pod.metadata.name}/container:${c.name}`;
        const own = pipelineSets().get(`${key}@${second(pod.timestamp)}`);
        expect(own, key).toBeDefined();
        expect(Math.abs(nanocores(c.usage.cpu) / 1e6 - own!.values['cpu/usage_rate']!)).toBeLessThan(1);
        expect(bytes(c.usage.memory)).toBe(own!.values['memory/working_set']);
        containers++;
      }
    }
    expect(containers).toBeGreaterThan(pods.length - 1);

    // One object by name, on each path kubectl and the HPA use: the same shape as the list's items.
    const node = JSON.parse(await kubectl('get', '--raw', `${API}/nodes/${nodes[0]!.metadata.name}`)) as {
      kind: string;
      apiVersion: string;
    } & NodeMetrics;
    expect(node).toMatchObject({ kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1' });
    expect(Object.keys(node)).toEqual(['kind', 'apiVersion', 'metadata', 'timestamp', 'window', 'usage']);
    const { namespace, name } = pods[0]!.metadata;
    const pod = JSON.parse(await kubectl('get', '--raw', `${API}/namespaces/${namespace}/pods/${name}`)) as {
      kind: string;
    } & PodMetrics;
    expect(pod).toMatchObject({ kind: 'PodMetrics', metadata: { name, namespace } });
    expect(Object.keys(pod)).toEqual(['kind', 'apiVersion', 'metadata', 'timestamp', 'window', 'containers']);
    const inNamespace = JSON.parse(await kubectl('get', '--raw', `${API}/namespaces/${namespace}/pods`)) as {
      kind: string;
      items: PodMetrics[];
    };
    expect(inNamespace.kind).toBe('PodMetricsList');
    expect(inNamespace.items.map((p) => p.metadata.name).sort()).toEqual(
      pods
        .filter((p) => p.metadata.namespace === namespace)
        .map((p) => p.metadata.name)
        .sort(),
    );
  }, 90_000);

  it('prints kubectl top nodes, top pods -A and top pods --containers from those numbers', async () => {
    // kubectl prints CPU as MilliValue() of the nanocores (rounded up) and memory in whole Mi (pkg/cmd/top). It
    // reads the API in one request per command while new cycles land, so each row must equal the API's object of
    // some cycle the pipeline wrote (checked against the JSON Lines, not against the API itself).
    const expectedNode = (name: string): Set<string> => {
      const out = new Set<string>();
      for (const [k, line] of pipelineSets()) {
        if (!k.startsWith(`node:${name}@`)) continue;
        const rate = line.values['cpu/usage_rate'];
        const mem = line.values['memory/working_set'];
        if (rate === undefined || mem === undefined) continue;
        // Truncated millicores r means nanocores in [r·1e6, (r+1)·1e6): rounded up, r or r + 1.
        for (const cpu of [rate, rate + 1]) out.add(`${cpu}m ${Math.floor(mem / 2 ** 20)}Mi`);
      }
      return out;
    };
    const topNodes = (await kubectl('top', 'nodes', '--no-headers')).trim().split('\n');
    expect(topNodes).toHaveLength(3);
    for (const row of topNodes) {
      // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%): the percentages from the nodes' allocatable.
      const [name, cpu, cpuPercent, memory, memoryPercent] = row.trim().split(/\s+/);
      expect(expectedNode(name!), row).toContain(`${cpu} ${memory}`);
      expect(cpuPercent).toMatch(/^\d+%$/);
      expect(memoryPercent).toMatch(/^\d+%$/);
    }

    const listed = (JSON.parse(await kubectl('get', '--raw', `${API}/pods`)) as { items: PodMetrics[] })
      .items;
    const containerRows = (await kubectl('top', 'pods', '-A', '--containers', '--no-headers'))
      .trim()
      .split('\n');
    expect(containerRows).toHaveLength(listed.reduce((n, p) => n + p.containers.length, 0));
    for (const row of containerRows) {
      const [namespace, pod, container, cpu, memory] = row.trim().split(/\s+/);
      const prefix = `namespace:${namespace}/pod:${pod}/container:${container}@`;
      const options = new Set<string>();
      for (const [k, line] of pipelineSets()) {
        if (!k.startsWith(prefix)) continue;
        const rate = line.values['cpu/usage_rate'];
        const mem = line.values['memory/working_set'];
        if (rate === undefined || mem === undefined) continue;
        for (const c of [rate, rate + 1]) options.add(`${c}m ${Math.floor(mem / 2 ** 20)}Mi`);
      }
      expect(options, row).toContain(`${cpu} ${memory}`);
    }

    const podRows = (await kubectl('top', 'pods', '-A', '--no-headers')).trim().split('\n');
    const podsOf = (rows: string[]) => new Set(rows.map((r) => r.trim().split(/\s+/).slice(0, 2).join('/')));
    expect(podRows).toHaveLength(3 * 4);
    expect(podsOf(podRows)).toEqual(podsOf(containerRows));
  }, 90_000);

  it('answers 401 without credentials or with an unknown token, and 403 to a user the API server denies', async () => {
    // Straight to heapstream (as something inside the cluster could): the sink's own guard, not the API server.
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      const ask = async (headers: Record<string, string>) => {
        const res = await request(`https://127.0.0.1:${apiPort}${API}/nodes`, {
          dispatcher: insecure,
          headers,
        });
        return { status: res.statusCode, body: (await res.body.json()) as { kind: string; reason: string } };
      };
      const anonymous = await ask({});
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
      // An unknown token is sent to the API server's TokenReview, which does not know it.
      const unknown = await ask({ authorization: 'Bearer not-a-token-the-api-server-knows' });
      expect(unknown.status).toBe(401);
      expect(plane.api.served('tokenreviews')).toBeGreaterThan(0);
    } finally {
      await insecure.close();
    }
    // Through the aggregation layer: the front-proxy names the caller; SubjectAccessReview denies it. (A namespace
    // not asked before: an allowed answer for another request is cached for allow_cache_ttl.)
    plane.api.setDeniedUsers(['sim-admin']);
    try {
      const denied = await kubectl('get', '--raw', `${API}/namespaces/denied-here/pods`).then(
        () => undefined,
        (err: { stderr: string }) => err.stderr,
      );
      expect(denied).toContain(
        'pods.metrics.k8s.io is forbidden: User "sim-admin" cannot list resource "pods"',
      );
    } finally {
      plane.api.setDeniedUsers([]);
    }
  }, 60_000);
});
