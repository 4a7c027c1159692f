import { copyFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { asyncScheduler } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { ConfigError } from '../../src/component/errors.js';
import { staticMetadata, type PodMeta } from '../../src/component/metadata.js';
import { createTestPki, type TestPki } from '../../src/sim/tls/pki.js';
import { testContext } from '../../src/testing/context.js';
import type { NodeBatch } from '../../src/model/types.js';
import {
  DENIED_TOKEN,
  GOOD_TOKEN,
  TokenTestGuard,
  httpsGet,
  peerCertificate,
} from '../../test/support/metrics-api.js';
import { metricsApiSinkConfig } from './config.js';
import metricsApi from './index.js';
import { cpuQuantity, goDuration, memoryQuantity } from './go-text.js';
import { createMetricsApiSink, type MetricsApiSink } from './metrics-api-sink.js';

// Every field is checked against what metrics-server writes: the objects of pkg/storage/node.go and pod.go
// `GetMetrics` in the k8s.io/metrics v1beta1 JSON shape (staging/src/k8s.io/metrics/pkg/apis/metrics/v1beta1/
// types.go), lists sorted as pkg/api/node.go and pod.go `getMetrics` sort them, NotFound as pkg/api/*.go `Get`.

const FIXTURES = new URL('../../../shared/fixtures/kubelet/otel-minikube/', import.meta.url);
const FIRST = JSON.parse(readFileSync(new URL('stats-summary.json', FIXTURES), 'utf8')) as Summary;
const SECOND = JSON.parse(
  readFileSync(new URL('stats-summary-second-scrape.json', FIXTURES), 'utf8'),
) as Summary;
const TICK = 1_700_000_000_000;

interface Stats {
  time: string;
  usageCoreNanoSeconds: number;
  workingSetBytes: number;
}
interface Summary {
  node: { cpu: Stats; memory: Stats };
  pods: {
    podRef: { name: string; namespace: string };
    containers: { name: string; cpu: Stats; memory: Stats }[];
  }[];
}

function batch(summary: Summary, cycle: number): NodeBatch {
  const sets = decodeSummary(structuredClone(summary), { name: 'minikube' });
  return { kind: 'batch', scope: 'node', node: 'minikube', cycle, timestamp: TICK + cycle * 15_000, sets };
}

/** metrics-server's resourceUsage on two raw points: ΔCPU ÷ window seconds, truncated. */
function nanocores(before: Stats, after: Stats): number {
  const seconds = (Date.parse(after.time) - Date.parse(before.time)) / 1000;
  return Math.trunc((after.usageCoreNanoSeconds - before.usageCoreNanoSeconds) / seconds);
}

const podLabels = (name: string) =>
  name.startsWith('coredns') ? { 'k8s-app': 'kube-dns', tier: 'dns' } : { app: name };
const metadata = staticMetadata({
  nodes: [
    {
      name: 'minikube',
      labels: { 'kubernetes.io/os': 'linux', role: 'control' },
      capacity: {},
      allocatable: {},
    },
  ],
  pods: SECOND.pods.map((p): PodMeta => ({
    namespace: p.podRef.namespace,
    name: p.podRef.name,
    uid: p.podRef.name,
    nodeName: 'minikube',
    labels: podLabels(p.podRef.name),
    containers: [],
    restartCounts: {},
  })),
});

const NOW = TICK + 2 * 15_000 + 500;
const clock = { now: () => NOW, scheduler: asyncScheduler };
const API = '/apis/metrics.k8s.io/v1beta1';

async function startSink(config: Record<string, unknown>, guard = new TokenTestGuard()) {
  const sink = createMetricsApiSink(
    metricsApiSinkConfig.parse({ listen: '127.0.0.1:0', ...config }),
    testContext({ metadata, clock, resolutionMs: 15_000 }),
    { createGuard: () => Promise.resolve(guard), version: '1.2.3' },
  );
  await sink.connect?.();
  return { sink, guard, address: sink.address() as { host: string; port: number } };
}

async function fill(sink: MetricsApiSink) {
  await sink.write(batch(FIRST, 1));
  await sink.cycleEnd?.({
    kind: 'cycle_end',
    cycle: 1,
    timestamp: TICK + 15_000,
    nodesExpected: 1,
    nodesAnswered: 1,
    failures: [],
    durationMs: 1,
  });
  await sink.write(batch(SECOND, 2));
  await sink.cycleEnd?.({
    kind: 'cycle_end',
    cycle: 2,
    timestamp: TICK + 30_000,
    nodesExpected: 1,
    nodesAnswered: 1,
    failures: [],
    durationMs: 1,
  });
}

describe('metrics_api sink over HTTPS', () => {
  let server: Awaited<ReturnType<typeof startSink>>;
  /** `token` null sends no credentials. */
  const get = (path: string, token: string | null = GOOD_TOKEN, method = 'GET') =>
    httpsGet(server.address, path, { ...(token === null ? {} : { token }), method });
  const json = async (path: string) => {
    const answer = await get(path);
    expect(answer.contentType).toBe('application/json');
    return { ...answer, body: JSON.parse(answer.text) as Record<string, unknown> };
  };

  beforeAll(async () => {
    server = await startSink({ authentication: 'delegated' });
  });
  afterAll(async () => {
    await server.sink.close();
  });

  it('is alive at once and ready only once a cycle with usage is stored (storage.go Ready)', async () => {
    expect((await get('/healthz', null)).status).toBe(200);
    expect((await get('/livez', null)).status).toBe(200);
    expect((await get('/readyz', null)).status).toBe(500);
    await fill(server.sink);
    expect(await get('/readyz', null)).toMatchObject({ status: 200, text: 'ok' });
  });

  it('ignores cluster batches (namespace and cluster sums)', async () => {
    const version = server.sink.store.version;
    await server.sink.write({
      kind: 'batch',
      scope: 'cluster',
      cycle: 2,
      timestamp: TICK,
      sets: batch(SECOND, 2).sets,
    });
    expect(server.sink.store.version).toBe(version);
  });

  it('lists node metrics in the NodeMetricsList shape, byte for byte where clients read', async () => {
    const { status, text, body } = await json(`${API}/nodes`);
    expect(status).toBe(200);
    const cpu = cpuQuantity(nanocores(FIRST.node.cpu, SECOND.node.cpu));
    const window = goDuration((Date.parse(SECOND.node.cpu.time) - Date.parse(FIRST.node.cpu.time)) * 1e6);
    expect(text).toBe(
      '{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        '{"metadata":{"name":"minikube","creationTimestamp":"' +
        new Date(Math.floor(NOW / 1000) * 1000).toISOString().replace('.000Z', 'Z') +
        '","labels":{"kubernetes.io/os":"linux","role":"control"}},' +
        `"timestamp":"${SECOND.node.cpu.time}","window":"${window}",` +
        `"usage":{"cpu":"${cpu}","memory":"${memoryQuantity(SECOND.node.memory.workingSetBytes)}"}}]}\n`,
    );
    expect(body.kind).toBe('NodeMetricsList');
    expect(window).toBe('2s');
    expect(cpu).toBe('1'); // 2 s of CPU in 2 s: one core, which Quantity writes as "1"
  });

  it('gets one node as NodeMetrics and answers 404 NotFound for an unknown one', async () => {
    const one = await json(`${API}/nodes/minikube`);
    expect(Object.keys(one.body)).toEqual(['kind', 'apiVersion', 'metadata', 'timestamp', 'window', 'usage']);
    expect(one.body.kind).toBe('NodeMetrics');
    expect(one.body.apiVersion).toBe('metrics.k8s.io/v1beta1');
    const missing = await json(`${API}/nodes/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodemetrics.metrics.k8s.io "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'metrics.k8s.io', kind: 'nodemetrics' },
      code: 404,
    });
  });

  it('lists every pod sorted by namespace and name, each container with its own usage', async () => {
    const { body } = await json(`${API}/pods`);
    expect(Object.keys(body)).toEqual(['kind', 'apiVersion', 'metadata', 'items']);
    const items = body.items as {
      metadata: Record<string, unknown>;
      timestamp: string;
      window: string;
      containers: { name: string; usage: Record<string, string> }[];
    }[];
    const expectedOrder = SECOND.pods
      .map((p) => [p.podRef.namespace, p.podRef.name] as const)
      .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
    expect(items.map((i) => [i.metadata.namespace, i.metadata.name])).toEqual(expectedOrder);
    for (const item of items) {
      expect(Object.keys(item)).toEqual(['metadata', 'timestamp', 'window', 'containers']);
      expect(Object.keys(item.metadata)).toEqual(['name', 'namespace', 'creationTimestamp', 'labels']);
      expect(item.metadata.labels).toEqual(podLabels(item.metadata.name as string));
      const raw = SECOND.pods.find((p) => p.podRef.name === item.metadata.name)!;
      const before = FIRST.pods.find((p) => p.podRef.name === item.metadata.name)!;
      expect(item.timestamp).toBe(raw.containers[0]!.cpu.time);
      expect(item.containers).toEqual(
        raw.containers.map((c, i) => ({
          name: c.name,
          usage: {
            cpu: cpuQuantity(nanocores(before.containers[i]!.cpu, c.cpu)),
            memory: memoryQuantity(c.memory.workingSetBytes),
          },
        })),
      );
      expect(Object.keys(item.containers[0]!.usage)).toEqual(['cpu', 'memory']);
    }
  });

  it('lists a namespace, gets a pod, and answers podmetrics NotFound with namespace/name', async () => {
    const ns = await json(`${API}/namespaces/default/pods`);
    const items = ns.body.items as { metadata: { namespace: string; name: string } }[];
    expect(items.map((i) => i.metadata.namespace)).toEqual(['default']);
    const name = items[0]!.metadata.name;
    const one = await json(`${API}/namespaces/default/pods/${name}`);
    expect(one.body.kind).toBe('PodMetrics');
    expect((one.body.metadata as { name: string }).name).toBe(name);
    const missing = await json(`${API}/namespaces/default/pods/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('podmetrics.metrics.k8s.io "default/nope" not found');
    expect(missing.body.details).toEqual({
      name: 'default/nope',
      group: 'metrics.k8s.io',
      kind: 'podmetrics',
    });
  });

  it('selects pods by their labels and by name or namespace fields', async () => {
    const names = async (query: string) =>
      ((await json(`${API}/pods?${query}`)).body.items as { metadata: { name: string } }[]).map(
        (i) => i.metadata.name,
      );
    const coredns = SECOND.pods
      .filter((p) => p.podRef.name.startsWith('coredns'))
      .map((p) => p.podRef.name)
      .sort();
    expect(await names('labelSelector=k8s-app%3Dkube-dns')).toEqual(coredns);
    expect(await names('labelSelector=tier%20in%20(dns,web)')).toEqual(coredns);
    expect(await names('labelSelector=!tier')).toHaveLength(SECOND.pods.length - coredns.length);
    expect(await names(`fieldSelector=metadata.name%3D${coredns[0]}`)).toEqual([coredns[0]]);
    expect(await names('fieldSelector=metadata.namespace!%3Dkube-system')).toEqual(
      SECOND.pods.filter((p) => p.podRef.namespace !== 'kube-system').map((p) => p.podRef.name),
    );
    const nodes = await json(`${API}/nodes?labelSelector=role%3Dworker`);
    expect(nodes.body.items).toEqual([]);
    const byField = await json(`${API}/nodes?fieldSelector=metadata.name%3Dminikube`);
    expect(byField.body.items).toHaveLength(1);
  });

  it('answers 400 BadRequest for a selector it cannot parse', async () => {
    for (const query of ['labelSelector=app%20in%20web', 'fieldSelector=spec.nodeName%3Dx']) {
      const bad = await json(`${API}/pods?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'BadRequest',
        code: 400,
      });
    }
  });

  it('answers 401 without credentials and 403 when denied, with the guard’s Status bodies', async () => {
    const anonymous = await get(`${API}/pods`, null);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const denied = await get(`${API}/namespaces/default/pods`, DENIED_TOKEN);
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    // Discovery is guarded too.
    expect((await get('/apis', null)).status).toBe(401);
  });

  it('asks the guard with the attributes a SubjectAccessReview needs', async () => {
    server.guard.asked.length = 0;
    await get(`${API}/nodes`);
    await get(`${API}/nodes/minikube`);
    await get(`${API}/pods`);
    await get(`${API}/namespaces/default/pods`);
    await get(`${API}/namespaces/default/pods/web`);
    await get('/openapi/v2');
    const base = { kind: 'resource', group: 'metrics.k8s.io', version: 'v1beta1' };
    expect(server.guard.asked).toEqual([
      { ...base, verb: 'list', resource: 'nodes' },
      { ...base, verb: 'get', resource: 'nodes', name: 'minikube' },
      { ...base, verb: 'list', resource: 'pods' },
      { ...base, verb: 'list', resource: 'pods', namespace: 'default' },
      { ...base, verb: 'get', resource: 'pods', namespace: 'default', name: 'web' },
      { kind: 'non_resource', verb: 'get', path: '/openapi/v2' },
    ]);
  });

  it('answers 405 MethodNotAllowed to anything but GET', async () => {
    const post = await get(`${API}/pods`, GOOD_TOKEN, 'POST');
    expect(post.status).toBe(405);
    expect(JSON.parse(post.text)).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
  });

  it('serves the discovery documents a client reads first', async () => {
    expect((await json('/apis')).body).toEqual({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        {
          name: 'metrics.k8s.io',
          versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
          preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
        },
      ],
    });
    expect((await json('/apis/metrics.k8s.io')).body).toMatchObject({
      kind: 'APIGroup',
      name: 'metrics.k8s.io',
    });
    const resources = (await json(API)).body;
    expect(resources).toMatchObject({ kind: 'APIResourceList', groupVersion: 'metrics.k8s.io/v1beta1' });
    expect(resources.resources).toEqual([
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ]);
    const v2 = (await json('/openapi/v2')).body;
    expect(v2.swagger).toBe('2.0');
    expect(Object.keys(v2.paths as object)).toContain(`${API}/namespaces/{namespace}/pods/{name}`);
    const v3 = (await json('/openapi/v3')).body as { paths: Record<string, { serverRelativeURL: string }> };
    const doc = await json(v3.paths['apis/metrics.k8s.io/v1beta1']!.serverRelativeURL);
    expect(doc.body.openapi).toBe('3.0.0');
    expect((await json('/version')).body).toMatchObject({ major: '1', minor: '2', gitVersion: 'v1.2.3' });
    expect((await json('/nowhere')).status).toBe(404);
  });

  it('serves a generated certificate a client can verify for 127.0.0.1 and localhost', async () => {
    const { pem, cert } = await peerCertificate(server.address);
    expect(cert.subjectaltname).toContain('IP Address:127.0.0.1');
    expect(cert.subjectaltname).toContain('DNS:localhost');
    const verified = await httpsGet(server.address, '/healthz', { ca: pem });
    expect(verified.status).toBe(200);
    const byName = await httpsGet(server.address, '/healthz', { ca: pem, servername: 'localhost' });
    expect(byName.status).toBe(200);
  });
});

describe('metrics_api sink with certificate files', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki({ ipSans: ['127.0.0.1'] });
  });
  afterAll(async () => {
    await pki.remove();
  });

  it('serves the files and picks up a renewed pair', async () => {
    const certFile = `${pki.dir}/serving.crt`;
    const keyFile = `${pki.dir}/serving.key`;
    await copyFile(pki.apiserver.certFile, certFile);
    await copyFile(pki.apiserver.keyFile, keyFile);
    const { sink, address } = await startSink({ tls: { cert_file: certFile, key_file: keyFile } });
    try {
      expect((await peerCertificate(address)).cert.subject.CN).toBe('kube-apiserver');
      expect((await httpsGet(address, '/livez', { ca: pki.ca.cert })).status).toBe(200);
      expect(await sink.checkCertificateFiles()).toBe(false);
      // cert-manager renews: both files are replaced.
      await copyFile(pki.kubelet.certFile, certFile);
      await copyFile(pki.kubelet.keyFile, keyFile);
      expect(await sink.checkCertificateFiles()).toBe(true);
      expect((await peerCertificate(address)).cert.subject.CN).toBe('kubelet');
      expect((await httpsGet(address, '/livez', { ca: pki.ca.cert })).status).toBe(200);
    } finally {
      await sink.close();
    }
  });

  it('names the tls key when the files cannot be read', async () => {
    const sink = createMetricsApiSink(
      metricsApiSinkConfig.parse({
        listen: '127.0.0.1:0',
        tls: { cert_file: '/nonexistent.crt', key_file: '/nonexistent.key' },
      }),
      testContext({ clock }),
      { createGuard: () => Promise.resolve(new TokenTestGuard()) },
    );
    await expect(sink.connect?.()).rejects.toThrow(/tls: cannot read the serving certificate/);
    await sink.close();
  });
});

describe('metrics_api sink as registered', () => {
  it('authenticates through the delegated guard: a kubeconfig it cannot read fails connect, nobody is let in', async () => {
    const sink = metricsApi.create(
      metricsApi.config.parse({
        listen: '127.0.0.1:0',
        kubernetes: { kubeconfig: '/nonexistent/heapstream-kubeconfig' },
      }),
      testContext({ clock }),
    );
    const error = await sink.connect?.().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('/nonexistent/heapstream-kubeconfig');
    await sink.close();
  });

  it('allows everything with authentication: none on loopback', async () => {
    const sink = createMetricsApiSink(
      metricsApiSinkConfig.parse({ listen: '127.0.0.1:0', authentication: 'none' }),
      testContext({ clock }),
      // This guard refuses requests without its token: `none` must not ask it.
      { createGuard: () => Promise.resolve(new TokenTestGuard()) },
    );
    await sink.connect?.();
    try {
      expect((await httpsGet(sink.address()!, '/apis/metrics.k8s.io/v1beta1/nodes')).status).toBe(200);
    } finally {
      await sink.close();
    }
  });
});
