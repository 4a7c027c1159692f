import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../component/clock.js';
import { Telemetry } from '../../component/telemetry.js';
import { startFakeApiServer, writeSimKubeconfig, type FakeApiServer } from '../../sim/apiserver/index.js';
import { createTestPki, type CertPair, type TestPki } from '../../sim/tls/pki.js';
import { createDelegatedGuard, ERRORS_METRIC } from './delegated-guard.js';
import type { DelegatedAuthOptions, RequestAttributes, RequestGuard } from './guard.js';
import { ensureDebianPackage } from '../../../test/services/apt.js';

// The delegated guard over real HTTPS with openssl-made certificates: a small extension server calls it for each
// request, and the simulator's fake API server publishes the auth ConfigMap and answers the reviews. Expected
// behaviour follows k8s.io/apiserver's delegating authenticator/authorizer, which metrics-server uses
// (metrics-server cmd/metrics-server/app/options: Authentication/Authorization = Delegating*Options).

const GUARD_TOKEN = 'heapstream-service-account-token';
const JANE_TOKEN = 'jane-token';
const MALLORY_TOKEN = 'mallory-token';

let pki: TestPki;
let api: FakeApiServer;
let dir: string;
let guard: RequestGuard;
let server: Server;
let serverUrl: string;
const telemetry = new Telemetry();
const logLines: Record<string, unknown>[] = [];
const closing = new AbortController();

/** The test server's mapping from path to what is asked, as the metrics API server would do it. */
function attributesOf(path: string): RequestAttributes {
  const named = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
  if (named?.[1] !== undefined && named[2] !== undefined) {
    return {
      kind: 'resource',
      verb: 'get',
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      resource: 'pods',
      namespace: named[1],
      name: named[2],
    };
  }
  if (path === '/apis/metrics.k8s.io/v1beta1/nodes') {
    return { kind: 'resource', verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes' };
  }
  return { kind: 'non_resource', verb: 'get', path };
}

async function startGuard(kubeconfig: string, extra: Partial<DelegatedAuthOptions> = {}) {
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    }),
  );
  return createDelegatedGuard(
    {
      cluster: { kubeconfig, clock: systemClock() },
      tokenCacheTtlMs: 60_000,
      allowCacheTtlMs: 60_000,
      denyCacheTtlMs: 60_000,
      ...extra,
    },
    { logger, signal: closing.signal, telemetry },
  );
}

beforeAll(async () => {
  pki = await createTestPki({ ipSans: ['127.0.0.1'] });
  api = await startFakeApiServer({
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
    tokens: [GUARD_TOKEN],
    users: {
      [JANE_TOKEN]: { username: 'jane', groups: ['developers', 'system:authenticated'] },
      [MALLORY_TOKEN]: { username: 'mallory', groups: ['system:authenticated'] },
    },
    deniedUsers: ['mallory'],
    frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
  });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-guard-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeSimKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, token: GUARD_TOKEN });
  guard = await startGuard(kubeconfig);
  // Client certificates are asked for, not required: the guard verifies them (guard.ts).
  server = createServer(
    { cert: pki.kubelet.cert, key: pki.kubelet.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      void guard.check(req, attributesOf(req.url ?? '/')).then((decision) => {
        const [code, body] = decision.allowed
          ? [200, { user: decision.user }]
          : [decision.code, decision.status];
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await guard.close();
  closing.abort();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await api.stop();
  await pki.remove();
  await rm(dir, { recursive: true, force: true });
});

interface CallOptions {
  readonly cert?: CertPair;
  readonly token?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly url?: string;
}

async function call(path: string, options: CallOptions = {}) {
  const agent = new Agent({
    connect: {
      ca: pki.ca.cert,
      ...(options.cert === undefined ? {} : { cert: options.cert.cert, key: options.cert.key }),
    },
  });
  try {
    const answer = await request((options.url ?? serverUrl) + path, {
      dispatcher: agent,
      headers: {
        ...options.headers,
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
    });
    return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> };
  } finally {
    await agent.close();
  }
}

const NODES = '/apis/metrics.k8s.io/v1beta1/nodes';
const FRONT_PROXY_HEADERS = {
  'x-remote-user': 'alice',
  'x-remote-group': ['admins', 'ops'],
  'x-remote-extra-scopes%2Fread': 'yes',
};
const UNAUTHORIZED = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

describe('delegated guard: front-proxy (requestheader) authentication', () => {
  it('takes the user, groups and extra from X-Remote-* of a front-proxy certificate with an allowed CN', async () => {
    const { status, body } = await call(NODES, { cert: pki.frontProxyClient, headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(200);
    expect(body.user).toEqual({
      name: 'alice',
      groups: ['admins', 'ops', 'system:authenticated'],
      extra: { 'scopes/read': ['yes'] },
    });
    expect(api.accessReviews.at(-1)).toEqual({
      user: 'alice',
      groups: ['admins', 'ops', 'system:authenticated'],
      extra: { 'scopes/read': ['yes'] },
      resourceAttributes: { verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes' },
    });
  });

  it('refuses a front-proxy CA certificate whose CN is not in requestheader-allowed-names (401)', async () => {
    const { status, body } = await call(NODES, { cert: pki.frontProxyRogue, headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(401);
    expect(body).toEqual(UNAUTHORIZED);
  });

  it('refuses an expired front-proxy certificate (401)', async () => {
    const { status } = await call(NODES, { cert: pki.frontProxyExpired, headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(401);
  });

  it('ignores X-Remote-* without a front-proxy certificate (401)', async () => {
    const { status, body } = await call(NODES, { headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(401);
    expect(body).toEqual(UNAUTHORIZED);
  });

  it('ignores X-Remote-* with a client-CA certificate: the user is its CN, the groups its O', async () => {
    const { status, body } = await call(NODES, { cert: pki.userClient, headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(200);
    expect(body.user).toEqual({ name: 'jane', groups: ['developers', 'system:authenticated'], extra: {} });
  });

  it('does not take the other CA for the front-proxy CA: a cert from an unknown CA proves nothing (401)', async () => {
    const { status } = await call(NODES, { cert: pki.otherCa, headers: FRONT_PROXY_HEADERS });
    expect(status).toBe(401);
  });
});

describe('delegated guard: bearer tokens and authorization', () => {
  it('authenticates a valid token by TokenReview and authorizes it by SubjectAccessReview', async () => {
    const { status, body } = await call(NODES, { token: JANE_TOKEN });
    expect(status).toBe(200);
    expect(body.user).toEqual({ name: 'jane', groups: ['developers', 'system:authenticated'], extra: {} });
    expect(api.accessReviews.at(-1)).toMatchObject({
      user: 'jane',
      resourceAttributes: { resource: 'nodes' },
    });
  });

  it('refuses an invalid token with a 401 Status', async () => {
    const { status, body } = await call(NODES, { token: 'forged-token' });
    expect(status).toBe(401);
    expect(body).toEqual(UNAUTHORIZED);
  });

  it('refuses a denied SubjectAccessReview with kube-apiserver’s 403 Status', async () => {
    const { status, body } = await call('/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/etcd-0', {
      token: MALLORY_TOKEN,
    });
    expect(status).toBe(403);
    // Wording from k8s.io/apiserver endpoints/handlers/responsewriters/errors.go (forbiddenMessage) and
    // apimachinery's errors.NewForbidden.
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'pods.metrics.k8s.io "etcd-0" is forbidden: User "mallory" cannot get resource "pods" in API group ' +
        '"metrics.k8s.io" in the namespace "kube-system"',
      reason: 'Forbidden',
      details: { name: 'etcd-0', group: 'metrics.k8s.io', kind: 'pods' },
      code: 403,
    });
    const list = await call(NODES, { token: MALLORY_TOKEN });
    expect(list.body.message).toBe(
      'nodes.metrics.k8s.io is forbidden: User "mallory" cannot list resource "nodes" in API group ' +
        '"metrics.k8s.io" at the cluster scope',
    );
  });

  it('lets health paths through without credentials, as the delegating authorizer’s always-allow paths', async () => {
    const { status, body } = await call('/livez');
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ name: 'system:anonymous' });
    expect((await call('/metrics')).status).toBe(401);
  });

  it('caches TokenReview and SubjectAccessReview answers (counted at the API server)', async () => {
    const tokensBefore = api.served('tokenreviews');
    const reviewsBefore = api.served('subjectaccessreviews');
    const fresh = await call(NODES, { token: JANE_TOKEN + '-unknown' });
    expect(fresh.status).toBe(401);
    expect(api.served('tokenreviews')).toBe(tokensBefore + 1);
    // The same invalid token again: the failure is cached too.
    await call(NODES, { token: JANE_TOKEN + '-unknown' });
    expect(api.served('tokenreviews')).toBe(tokensBefore + 1);
    // jane and her list of nodes were reviewed by an earlier test: both answers come from the caches.
    await call(NODES, { token: JANE_TOKEN });
    expect(api.served('tokenreviews')).toBe(tokensBefore + 1);
    expect(api.served('subjectaccessreviews')).toBe(reviewsBefore);
    // Other attributes need another SubjectAccessReview, and a denial is cached as well.
    await call('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web', { token: JANE_TOKEN });
    expect(api.served('subjectaccessreviews')).toBe(reviewsBefore + 1);
    await call('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web', { token: JANE_TOKEN });
    await call(NODES, { token: MALLORY_TOKEN });
    expect(api.served('subjectaccessreviews')).toBe(reviewsBefore + 1);
  });

  it('sends one TokenReview and one SubjectAccessReview for concurrent requests asking the same', async () => {
    const tokensBefore = api.served('tokenreviews');
    const reviewsBefore = api.served('subjectaccessreviews');
    const path = '/apis/metrics.k8s.io/v1beta1/namespaces/burst/pods/p';
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(path, { token: JANE_TOKEN + '-burst' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 401));
    expect(api.served('tokenreviews')).toBe(tokensBefore + 1);
    const allowed = await Promise.all(Array.from({ length: 8 }, () => call(path, { token: JANE_TOKEN })));
    expect(allowed.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 200));
    expect(api.served('subjectaccessreviews')).toBe(reviewsBefore + 1);
  });

  it('re-reads the ConfigMap on its refresh period', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const refreshing = await startGuard(kubeconfig, { configRefreshMs: 20 });
    try {
      const before = api.served('configmap');
      await vi.waitFor(() => expect(api.served('configmap')).toBeGreaterThanOrEqual(before + 2), {
        timeout: 5_000,
      });
    } finally {
      await refreshing.close();
    }
    await expect(refreshing.close()).resolves.toBeUndefined(); // idempotent
  });
});

// kubectl is a Go client, like kube-apiserver's aggregator: Go sends its client certificate only when the server's
// list of acceptable CAs allows it, so this checks the server set-up guard.ts asks for works with Go's TLS.
describe('delegated guard: a Go client (kubectl)', () => {
  const kubectlAs = async (user: Record<string, string>) => {
    // A real kubectl, installed from Debian's package when absent.
    const kubectlPath = await ensureDebianPackage('kubectl', 'kubectl');
    const kubeconfig = join(dir, `kubectl-${Object.keys(user).join('-')}`);
    await writeSimKubeconfig(kubeconfig, { server: serverUrl, caFile: pki.ca.certFile, ...user });
    const { stdout } = await promisify(execFile)(kubectlPath, [
      '--kubeconfig',
      kubeconfig,
      '--cache-dir',
      join(dir, 'kubectl-cache'),
      'get',
      '--raw',
      NODES,
    ]);
    return JSON.parse(stdout) as { user: unknown };
  };

  it('authenticates kubectl’s client certificate and its bearer token', async () => {
    expect(
      (await kubectlAs({ certFile: pki.userClient.certFile, keyFile: pki.userClient.keyFile })).user,
    ).toEqual({
      name: 'jane',
      groups: ['developers', 'system:authenticated'],
      extra: {},
    });
    expect((await kubectlAs({ token: JANE_TOKEN })).user).toMatchObject({ name: 'jane' });
  });
});

describe('delegated guard: API server unreachable', () => {
  it('answers 503 with a Status, logs the failure once and counts it', async () => {
    const down = await startFakeApiServer({
      tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
      tokens: [GUARD_TOKEN],
      users: { [JANE_TOKEN]: { username: 'jane', groups: ['system:authenticated'] } },
      frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
    });
    const kubeconfig = join(dir, 'down-kubeconfig');
    await writeSimKubeconfig(kubeconfig, { server: down.url, caFile: pki.ca.certFile, token: GUARD_TOKEN });
    const isolated = await startGuard(kubeconfig);
    const isolatedServer = createServer(
      { cert: pki.kubelet.cert, key: pki.kubelet.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        void isolated.check(req, attributesOf(req.url ?? '/')).then((decision) => {
          const [code, body] = decision.allowed
            ? [200, { user: decision.user }]
            : [decision.code, decision.status];
          res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
      },
    );
    await new Promise<void>((resolve) => isolatedServer.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(isolatedServer.address() as AddressInfo).port}`;
    try {
      expect((await call(NODES, { token: JANE_TOKEN, url })).status).toBe(200);
      await down.stop();
      const linesBefore = logLines.length;
      const countBefore = telemetry.value(ERRORS_METRIC, { review: 'tokenreview' });
      const first = await call(NODES, { token: 'a-new-token', url });
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
      // A cached token still needs a SubjectAccessReview for new attributes: that fails the same way.
      const second = await call('/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/b', {
        token: JANE_TOKEN,
        url,
      });
      expect(second.status).toBe(503);
      await call(NODES, { token: 'another-new-token', url });
      expect(telemetry.value(ERRORS_METRIC, { review: 'tokenreview' })).toBe(countBefore + 2);
      expect(telemetry.value(ERRORS_METRIC, { review: 'subjectaccessreview' })).toBeGreaterThanOrEqual(1);
      const warnings = logLines
        .slice(linesBefore)
        .filter((l) => l.level === 40 && String(l.msg).includes('tokenreview'));
      // Two failed TokenReviews, one line: the log limiter holds back the repeat.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ review: 'tokenreview', status: 0 });
    } finally {
      await isolated.close();
      await new Promise<void>((resolve) => {
        isolatedServer.close(() => resolve());
        isolatedServer.closeAllConnections();
      });
    }
  });
});
