import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/component/clock.js';
import { silentLogger } from '../src/component/logger.js';
import { createDelegatedGuard } from '../src/kube/delegated-auth/delegated-guard.js';
import type { RequestAttributes, RequestGuard } from '../src/kube/delegated-auth/guard.js';
import { startSimulatedControlPlane, type SimulatedControlPlane } from '../src/sim/apiserver/index.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { createTestPki, type TestPki } from '../src/sim/tls/pki.js';
import { ensureDebianPackage } from './services/apt.js';

// The delegated guard behind the simulator's aggregation layer, driven by a real kubectl: the control plane
// `heapstream simulate` starts publishes its front-proxy CA, proxies metrics.k8s.io with the front-proxy client
// certificate, and the guard authenticates the caller from X-Remote-User and authorizes it by SubjectAccessReview.
// The extension server here answers a fixed NodeMetricsList: the metrics API's own answers are tested beside it.

const run = promisify(execFile);

let sim: SimulatedCluster;
let plane: SimulatedControlPlane;
let servingPki: TestPki;
let dir: string;
let guard: RequestGuard;
let backend: Server;
let kubectlPath: string;
const closing = new AbortController();

const NODE_METRICS = {
  kind: 'NodeMetricsList',
  apiVersion: 'metrics.k8s.io/v1beta1',
  metadata: {},
  items: [
    {
      metadata: { name: 'sim-node-0' },
      timestamp: '2026-12-06T00:00:00Z',
      window: '15s',
      usage: { cpu: '250000000n', memory: '1048576Ki' },
    },
  ],
};

/** What a metrics API request asks, as the metrics API server maps it (a subset: the paths used here). */
function attributesOf(path: string): RequestAttributes {
  const base = { kind: 'resource', verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1' } as const;
  if (path === '/apis/metrics.k8s.io/v1beta1/nodes') return { ...base, resource: 'nodes' };
  const namespaced = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods$/.exec(path);
  if (namespaced?.[1] !== undefined) return { ...base, resource: 'pods', namespace: namespaced[1] };
  return { kind: 'non_resource', verb: 'get', path };
}

beforeAll(async () => {
  // A real kubectl, as users run it: installed from Debian's package when absent.
  kubectlPath = await ensureDebianPackage('kubectl', 'kubectl');
  sim = await startSimulatedCluster({ nodes: 2, seed: 11, firstAddress: '127.0.18.1' });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-aggregation-'));
  plane = await startSimulatedControlPlane({ nodes: sim.nodes, metadata: sim.metadata(), dir });
  servingPki = await createTestPki({ ipSans: ['127.0.0.1'] });
  guard = await createDelegatedGuard(
    {
      cluster: { kubeconfig: plane.kubeconfigPath, clock: systemClock() },
      tokenCacheTtlMs: 10_000,
      allowCacheTtlMs: 10_000,
      denyCacheTtlMs: 10_000,
    },
    { logger: silentLogger(), signal: closing.signal },
  );
  const { cert, key } = servingPki.kubelet;
  backend = createServer({ cert, key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    void guard.check(req, attributesOf(path)).then((decision) => {
      const answer = path.endsWith('/nodes') ? NODE_METRICS : { kind: 'APIResourceList', resources: [] };
      const [code, body] = decision.allowed ? [200, answer] : [decision.code, decision.status];
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  // As deploy/apiservice.yaml: the serving certificate is not verified.
  await plane.api.setAggregatedApis([
    { group: 'metrics.k8s.io', version: 'v1beta1', url, insecureSkipTLSVerify: true },
  ]);
}, 60_000);

afterAll(async () => {
  await guard.close();
  closing.abort();
  await new Promise<void>((resolve) => {
    backend.close(() => resolve());
    backend.closeAllConnections();
  });
  await plane.stop();
  await sim.stop();
  await servingPki.remove();
  await rm(dir, { recursive: true, force: true });
});

const kubectl = (...args: string[]) =>
  run(kubectlPath, [
    '--kubeconfig',
    plane.kubeconfigPath,
    '--cache-dir',
    join(dir, 'kubectl-cache'),
    ...args,
  ]);

describe('the delegated guard behind the simulated aggregation layer', () => {
  it('serves kubectl get --raw and kubectl top nodes as the front-proxy’s authenticated caller', async () => {
    const raw = await kubectl('get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(JSON.parse(raw.stdout)).toEqual(NODE_METRICS);
    // The guard asked the API server about the kubeconfig's user, named by the aggregation layer's headers.
    expect(plane.api.accessReviews.at(-1)).toMatchObject({
      user: 'sim-admin',
      resourceAttributes: { verb: 'list', group: 'metrics.k8s.io', resource: 'nodes' },
    });
    const top = await kubectl('top', 'nodes', '--no-headers');
    expect(top.stdout.trim().split(/\s+/).slice(0, 2)).toEqual(['sim-node-0', '250m']);
  });

  it('passes on the guard’s 403 Status when the SubjectAccessReview denies the caller', async () => {
    plane.api.setDeniedUsers(['sim-admin']);
    try {
      // Another question than the allowed (and cached) list of nodes, so a SubjectAccessReview is asked.
      const failed = await kubectl(
        'get',
        '--raw',
        '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods',
      ).then(
        () => undefined,
        (err: { stderr: string }) => err,
      );
      expect(failed?.stderr).toContain(
        'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: User "sim-admin" cannot list resource ' +
          '"pods" in API group "metrics.k8s.io" in the namespace "default"',
      );
    } finally {
      plane.api.setDeniedUsers([]);
    }
  });
});
