import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createTestPki, type TestPki } from '../tls/pki.js';
import { startFakeApiServer, type FakeApiServer } from './server.js';

// The fake API server's side of delegated authentication, over real HTTPS with openssl-made certificates: what an
// extension API server (heapstream's metrics API, metrics-server) reads and asks.

const CALLER_TOKEN = 'extension-server-token';
const JANE_TOKEN = 'jane-token';

let pki: TestPki;
let api: FakeApiServer;
let agent: Agent;

beforeAll(async () => {
  pki = await createTestPki({ ipSans: ['127.0.0.1'] });
  api = await startFakeApiServer({
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
    tokens: [CALLER_TOKEN],
    users: { [JANE_TOKEN]: { username: 'jane', uid: 'u-1', groups: ['developers', 'system:authenticated'] } },
    deniedUsers: ['mallory'],
    frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
  });
  agent = new Agent({ connect: { ca: pki.ca.cert } });
}, 60_000);

afterAll(async () => {
  await agent.close();
  await api.stop();
  await pki.remove();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown, token = CALLER_TOKEN) {
  const answer = await request(api.url + path, {
    method,
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> };
}

const tokenReview = (token: string) => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  spec: { token },
});
const accessReview = (user: string) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: {
    user,
    groups: ['system:authenticated'],
    resourceAttributes: { verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' },
  },
});

describe('fake API server: extension-apiserver-authentication', () => {
  it('publishes the client CA and the request-header settings in kube-system, header lists as JSON', async () => {
    const { status, body } = await call(
      'GET',
      '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
    );
    expect(status).toBe(200);
    expect(body.metadata).toMatchObject({
      name: 'extension-apiserver-authentication',
      namespace: 'kube-system',
    });
    const data = body.data as Record<string, string>;
    // The PEMs are the CAs themselves: parse them and compare fingerprints.
    expect(new X509Certificate(data['client-ca-file'] ?? '').fingerprint256).toBe(
      new X509Certificate(pki.ca.cert).fingerprint256,
    );
    expect(new X509Certificate(data['requestheader-client-ca-file'] ?? '').fingerprint256).toBe(
      new X509Certificate(pki.frontProxyCa.cert).fingerprint256,
    );
    expect(JSON.parse(data['requestheader-allowed-names'] ?? '')).toEqual(['front-proxy-client']);
    expect(JSON.parse(data['requestheader-username-headers'] ?? '')).toEqual(['X-Remote-User']);
    expect(JSON.parse(data['requestheader-group-headers'] ?? '')).toEqual(['X-Remote-Group']);
    expect(JSON.parse(data['requestheader-extra-headers-prefix'] ?? '')).toEqual(['X-Remote-Extra-']);
    expect(api.served('configmap')).toBe(1);
  });

  it('refuses an unauthenticated caller with a 401 Status', async () => {
    const { status, body } = await call('GET', '/api', undefined, 'unknown-token');
    expect(status).toBe(401);
    expect(body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});

describe('fake API server: TokenReview', () => {
  it('authenticates a known token as its configured user', async () => {
    const { status, body } = await call(
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      tokenReview(JANE_TOKEN),
    );
    expect(status).toBe(201);
    expect(body.status).toEqual({
      authenticated: true,
      user: { username: 'jane', uid: 'u-1', groups: ['developers', 'system:authenticated'] },
    });
  });

  it('answers authenticated: false with an error for an unknown token', async () => {
    const { body } = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', tokenReview('forged'));
    expect(body.status).toMatchObject({ authenticated: false, error: 'invalid bearer token' });
  });

  it('rejects a body that is not a TokenReview with 400', async () => {
    const { status } = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { kind: 'Pod' });
    expect(status).toBe(400);
  });
});

describe('fake API server: SubjectAccessReview', () => {
  it('allows by default, denies the users on the deny list, and the list can change', async () => {
    const path = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
    expect((await call('POST', path, accessReview('jane'))).body.status).toMatchObject({ allowed: true });
    expect((await call('POST', path, accessReview('mallory'))).body.status).toEqual({ allowed: false });
    api.setDeniedUsers(['jane']);
    try {
      expect((await call('POST', path, accessReview('jane'))).body.status).toEqual({ allowed: false });
      expect((await call('POST', path, accessReview('mallory'))).body.status).toMatchObject({
        allowed: true,
      });
    } finally {
      api.setDeniedUsers(['mallory']);
    }
    expect(api.accessReviews.at(-1)).toMatchObject({
      user: 'mallory',
      resourceAttributes: { resource: 'pods' },
    });
  });
});
