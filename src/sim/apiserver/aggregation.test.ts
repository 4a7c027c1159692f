import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createTestPki, type TestPki } from '../tls/pki.js';
import { writeSimKubeconfig } from './kubeconfig.js';
import { startFakeApiServer, type FakeApiServer } from './server.js';
import { ensureDebianPackage } from '../../../test/services/apt.js';

// The fake API server as kube-apiserver's aggregation layer in front of an extension API server: discovery lists
// the APIService's group, and its paths are proxied with the front-proxy client certificate and X-Remote-*
// headers naming the authenticated caller (kube-aggregator's proxy handler, pkg/apiserver/handler_proxy.go).

const JANE_TOKEN = 'jane-token';

/** The discovery document metrics-server serves at /apis/metrics.k8s.io/v1beta1 (its APIResourceList). */
const RESOURCE_LIST = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'metrics.k8s.io/v1beta1',
  resources: [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ],
};
const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,' +
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface Seen {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The client certificate the extension server saw, and whether it chains to the front-proxy CA. */
  readonly peerCn: string | undefined;
  readonly peerSignedByFrontProxyCa: boolean;
}

let pki: TestPki;
let api: FakeApiServer;
let backend: Server;
let backendUrl: string;
let agent: Agent;
const seen: Seen[] = [];

beforeAll(async () => {
  pki = await createTestPki({ ipSans: ['127.0.0.1'] });
  const frontProxyCa = new X509Certificate(pki.frontProxyCa.cert);
  // The extension server asks for a client certificate without rejecting it, as metrics-server's does.
  backend = createServer(
    { cert: pki.kubelet.cert, key: pki.kubelet.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const raw = (req.socket as TLSSocket).getPeerCertificate().raw as Buffer | undefined;
      const peer = raw === undefined ? undefined : new X509Certificate(raw);
      seen.push({
        path: req.url ?? '',
        headers: req.headers,
        peerCn: peer?.subject.replace(/^CN=/, ''),
        peerSignedByFrontProxyCa: peer !== undefined && peer.verify(frontProxyCa.publicKey),
      });
      const body = req.url === '/apis/metrics.k8s.io/v1beta1' ? RESOURCE_LIST : { kind: 'NodeMetricsList' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
  );
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendUrl = `https://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  api = await startFakeApiServer({
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
    users: { [JANE_TOKEN]: { username: 'jane', groups: ['developers', 'system:authenticated'] } },
    frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
  });
  agent = new Agent({ connect: { ca: pki.ca.cert } });
}, 60_000);

afterAll(async () => {
  await agent.close();
  await api.stop();
  await new Promise<void>((resolve) => {
    backend.close(() => resolve());
    backend.closeAllConnections();
  });
  await pki.remove();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const answer = await request(api.url + path, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${JANE_TOKEN}`, ...headers },
  });
  return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> };
}

const metricsApi = () => ({ group: 'metrics.k8s.io', version: 'v1beta1', url: backendUrl });

describe('fake API server: aggregation layer', () => {
  it('lists no metrics.k8s.io group until an APIService is set, then lists and describes it', async () => {
    await api.setAggregatedApis([]);
    const before = await get('/apis');
    expect((before.body.groups as { name: string }[]).map((g) => g.name)).not.toContain('metrics.k8s.io');
    expect((await get('/apis/metrics.k8s.io')).status).toBe(404);

    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.ca.cert }]);
    const after = await get('/apis');
    expect(after.body.groups).toContainEqual({
      name: 'metrics.k8s.io',
      versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
      preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
    });
    const group = await get('/apis/metrics.k8s.io');
    expect(group.body).toMatchObject({ kind: 'APIGroup', name: 'metrics.k8s.io' });
  });

  it('proxies with the front-proxy certificate and the caller as X-Remote-*, never its token or forged headers', async () => {
    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.ca.cert }]);
    const before = seen.length;
    const { status, body } = await get('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3Db', {
      'x-remote-user': 'system:admin',
      'x-remote-group': 'system:masters',
    });
    expect(status).toBe(200);
    expect(body).toEqual({ kind: 'NodeMetricsList' });
    expect(seen).toHaveLength(before + 1);
    const call = seen.at(-1);
    expect(call?.path).toBe('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3Db');
    expect(call?.peerCn).toBe('front-proxy-client');
    expect(call?.peerSignedByFrontProxyCa).toBe(true);
    expect(call?.headers['x-remote-user']).toBe('jane');
    // Node joins repeated headers with ", ": one X-Remote-Group line per group.
    expect(call?.headers['x-remote-group']).toBe('developers, system:authenticated');
    expect(call?.headers.authorization).toBeUndefined();
  });

  it('verifies the extension server with the caBundle, or not at all with insecureSkipTLSVerify', async () => {
    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.otherCa.cert }]);
    const refused = await get('/apis/metrics.k8s.io/v1beta1/nodes');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect(refused.body.message).toContain('error trying to reach service v1beta1.metrics.k8s.io');

    await api.setAggregatedApis([{ ...metricsApi(), insecureSkipTLSVerify: true }]);
    expect((await get('/apis/metrics.k8s.io/v1beta1/nodes')).status).toBe(200);
  });

  it('answers 503 ServiceUnavailable when the extension server does not listen', async () => {
    await api.setAggregatedApis([
      { group: 'metrics.k8s.io', version: 'v1beta1', url: 'https://127.0.0.1:1' },
    ]);
    const { status, body } = await get('/apis/metrics.k8s.io/v1beta1/pods');
    expect(status).toBe(503);
    expect(body.reason).toBe('ServiceUnavailable');
  });

  it('refuses an unauthenticated caller before proxying', async () => {
    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.ca.cert }]);
    const before = seen.length;
    const answer = await request(api.url + '/apis/metrics.k8s.io/v1beta1/nodes', { dispatcher: agent });
    expect(answer.statusCode).toBe(401);
    await answer.body.dump();
    expect(seen).toHaveLength(before);
  });

  it('serves aggregated discovery (v2) with the resources the extension server lists, stale when it is down', async () => {
    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.ca.cert }]);
    const answer = await request(api.url + '/apis', {
      dispatcher: agent,
      headers: { authorization: `Bearer ${JANE_TOKEN}`, accept: AGGREGATED_ACCEPT },
    });
    expect(answer.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const list = (await answer.body.json()) as { kind: string; items: { metadata: { name?: string } }[] };
    expect(list.kind).toBe('APIGroupDiscoveryList');
    expect(list.items.find((g) => g.metadata.name === 'metrics.k8s.io')).toEqual({
      metadata: { name: 'metrics.k8s.io', creationTimestamp: null },
      versions: [
        {
          version: 'v1beta1',
          freshness: 'Current',
          resources: [
            {
              resource: 'nodes',
              responseKind: { group: '', version: '', kind: 'NodeMetrics' },
              scope: 'Cluster',
              singularResource: '',
              verbs: ['get', 'list'],
            },
            {
              resource: 'pods',
              responseKind: { group: '', version: '', kind: 'PodMetrics' },
              scope: 'Namespaced',
              singularResource: '',
              verbs: ['get', 'list'],
            },
          ],
        },
      ],
    });
    // The aggregator reads discovery as itself, not as the caller.
    expect(seen.find((s) => s.path === '/apis/metrics.k8s.io/v1beta1')?.headers['x-remote-user']).toBe(
      'system:kube-aggregator',
    );

    await api.setAggregatedApis([
      { group: 'metrics.k8s.io', version: 'v1beta1', url: 'https://127.0.0.1:1' },
    ]);
    const stale = await request(api.url + '/apis', {
      dispatcher: agent,
      headers: { authorization: `Bearer ${JANE_TOKEN}`, accept: AGGREGATED_ACCEPT },
    });
    const staleList = (await stale.body.json()) as {
      items: { metadata: { name?: string }; versions: { freshness: string }[] }[];
    };
    expect(staleList.items.find((g) => g.metadata.name === 'metrics.k8s.io')?.versions[0]?.freshness).toBe(
      'Stale',
    );
  });

  // kubectl's discovery and `get --raw` through the fake aggregation layer: what `kubectl top` relies on.
  it('serves kubectl api-versions and get --raw', async () => {
    // A real kubectl, installed from Debian's package when absent.
    const kubectlPath = await ensureDebianPackage('kubectl', 'kubectl');
    await api.setAggregatedApis([{ ...metricsApi(), caBundle: pki.ca.cert }]);
    const dir = await mkdtemp(join(tmpdir(), 'heapstream-kubectl-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeSimKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, token: JANE_TOKEN });
      const kubectl = (...args: string[]) =>
        promisify(execFile)(kubectlPath, [
          '--kubeconfig',
          kubeconfig,
          '--cache-dir',
          join(dir, 'cache'),
          ...args,
        ]);
      const versions = await kubectl('api-versions');
      expect(versions.stdout.split('\n')).toContain('metrics.k8s.io/v1beta1');
      // api-resources reads the aggregated (v2) discovery document, resources included.
      const resources = await kubectl('api-resources', '--api-group=metrics.k8s.io', '-o', 'name');
      expect(resources.stdout.split('\n').filter((l) => l !== '')).toEqual([
        'nodes.metrics.k8s.io',
        'pods.metrics.k8s.io',
      ]);
      expect(api.served('discovery-v2')).toBeGreaterThan(0);
      const raw = await kubectl('get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes');
      expect(JSON.parse(raw.stdout)).toEqual({ kind: 'NodeMetricsList' });
      expect(seen.at(-1)?.headers['x-remote-user']).toBe('jane');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
