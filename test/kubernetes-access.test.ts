import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { asyncScheduler } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import type { Clock } from '../src/component/clock.js';
import { ScrapeError } from '../src/component/errors.js';
import { kubernetesDiscoverySchema } from '../src/kube/discovery-config.js';
import { kubeletAccess } from '../src/kube/kubelet-access.js';
import type { KubeletAccessConfig } from '../src/kube/kubelet-access-config.js';
import { KubeletClient } from '../src/kube/kubelet-client.js';
import { KubernetesDiscovery } from '../src/kube/kubernetes-discovery.js';
import {
  nodeObject,
  startFakeApiServer,
  writeSimKubeconfig,
  type FakeApiServer,
} from '../src/sim/apiserver/index.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { createTestPki, type TestPki } from '../src/sim/tls/pki.js';
import { startTlsKubelets, type TlsKubelets } from '../src/sim/tls/tls-kubelet.js';

const SA_TOKEN = 'service-account-token-7f3a';
const WRONG_TOKEN = 'not-the-right-token-91c2';

let sim: SimulatedCluster;
let pki: TestPki;
let ipKubelets: TlsKubelets;
let dnsKubelets: TlsKubelets;
let api: FakeApiServer;
let dir: string;
let serviceAccountDir: string;
let kubeconfig: string;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startSimulatedCluster({ nodes: 2, seed: 3, firstAddress: '127.0.3.1' });
  pki = await createTestPki({ ipSans: sim.nodes.map((n) => n.address) });
  ipKubelets = await startTlsKubelets({ upstream: sim.nodes, pki, tokens: [SA_TOKEN] });
  dnsKubelets = await startTlsKubelets({
    upstream: sim.nodes,
    pki,
    tokens: [SA_TOKEN],
    certificate: 'dns_only',
  });
  api = await startFakeApiServer({
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
    tokens: [SA_TOKEN],
    // kube-apiserver reaches kubelets with its own client certificate.
    kubeletClient: { scheme: 'https', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
  });
  for (const n of ipKubelets.nodes) {
    api.state.put(
      'nodes',
      nodeObject({ name: n.name, address: n.address, port: n.port, labels: { cert: 'ip' } }),
    );
  }
  for (const n of dnsKubelets.nodes) {
    const name = `${n.name}-dns`;
    api.state.put('nodes', nodeObject({ name, address: n.address, port: n.port, labels: { cert: 'dns' } }));
  }
  dir = await mkdtemp(join(tmpdir(), 'heapstream-access-'));
  serviceAccountDir = join(dir, 'serviceaccount');
  await mkdir(serviceAccountDir);
  await writeFile(join(serviceAccountDir, 'token'), SA_TOKEN + '\n');
  await copyFile(pki.ca.certFile, join(serviceAccountDir, 'ca.crt'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeSimKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, token: SA_TOKEN });
}, 60_000);

afterAll(async () => {
  await api.stop();
  await ipKubelets.stop();
  await dnsKubelets.stop();
  await sim.stop();
  await pki.remove();
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  readonly node: string;
  readonly sets?: number;
  readonly reason?: string;
  readonly message?: string;
}

const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);

/** Discovers the cluster, builds the kubelet client from the access keys, and scrapes every node once. */
async function scrapeAll(
  discovery: Record<string, unknown>,
  access: Partial<KubeletAccessConfig>,
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<Outcome[]> {
  const clock = options.clock ?? { now: () => Date.now(), scheduler: asyncScheduler };
  const d = new KubernetesDiscovery(kubernetesDiscoverySchema.parse({ metadata: false, ...discovery }), {
    defaultPort: 10250,
    provideMetadata: () => undefined,
    env: options.env ?? {},
    serviceAccountDir,
    clock,
    logger,
  });
  await d.start();
  try {
    const client = new KubeletClient(
      {
        timeoutMs: 5000,
        maxResponseBytes: 64 << 20,
        ...kubeletAccess({ scheme: 'https', via: 'direct', ...access }, d, { baseDir: dir, clock, logger }),
      },
      clock,
    );
    try {
      return await Promise.all(d.nodes().map((node) => scrapeOne(client, node)));
    } finally {
      await client.close();
    }
  } finally {
    await d.stop();
  }
}

async function scrapeOne(client: KubeletClient, node: Parameters<KubeletClient['get']>[0]): Promise<Outcome> {
  try {
    const text = await client.get(node, '/stats/summary');
    return { node: node.name, sets: decodeSummary(JSON.parse(text), { name: node.name }).length };
  } catch (err) {
    if (err instanceof ScrapeError) return { node: node.name, reason: err.reason, message: err.message };
    throw err;
  }
}

/** What a pod sees: the API server's address in the environment, the service account mounted. */
const inClusterEnv = () => ({
  KUBERNETES_SERVICE_HOST: '127.0.0.1',
  KUBERNETES_SERVICE_PORT: new URL(api.url).port,
});

function collected(outcomes: Outcome[], count = 2): void {
  expect(outcomes).toHaveLength(count);
  for (const o of outcomes) {
    expect(o.message).toBeUndefined();
    expect(o.sets).toBeGreaterThan(10);
  }
}

describe('kubelet access modes over real HTTPS against the simulator', () => {
  it('in-cluster default: https with the service-account token and CA', async () => {
    const env = inClusterEnv();
    const before = ipKubelets.served(sim.nodes[0]?.name ?? '');
    collected(await scrapeAll({ in_cluster: true, label_selector: 'cert=ip' }, {}, { env }));
    expect(ipKubelets.served(sim.nodes[0]?.name ?? '')).toBe(before + 1);
  });

  it('client certificate and key (no token sent)', async () => {
    const refusedBefore = ipKubelets.unauthorized();
    const outcomes = await scrapeAll(
      { kubeconfig, label_selector: 'cert=ip' },
      {
        tls: {
          ca_file: pki.ca.certFile,
          cert_file: pki.client.certFile,
          key_file: pki.client.keyFile,
          insecure_skip_verify: false,
        },
      },
    );
    collected(outcomes);
    expect(ipKubelets.unauthorized()).toBe(refusedBefore);
  });

  it('CA file and server name override for kubelet certificates without IP SANs', async () => {
    const tokenFile = join(dir, 'token-ok');
    await writeFile(tokenFile, SA_TOKEN);
    const base = { kubeconfig, label_selector: 'cert=dns' };
    const without = await scrapeAll(base, {
      tls: { ca_file: pki.ca.certFile, insecure_skip_verify: false },
      auth: { token_file: tokenFile },
    });
    expect(without.map((o) => o.reason)).toEqual(['tls', 'tls']);
    expect(without[0]?.message).toMatch(/does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(without[0]?.message).toMatch(/set tls.server_name/);
    const withName = await scrapeAll(base, {
      tls: { ca_file: pki.ca.certFile, server_name: pki.dnsName, insecure_skip_verify: false },
      auth: { token_file: tokenFile },
    });
    collected(withName);
  });

  it('insecure_skip_verify: explicit, and logged as a warning', async () => {
    const tokenFile = join(dir, 'token-ok');
    await writeFile(tokenFile, SA_TOKEN);
    logLines.length = 0;
    const outcomes = await scrapeAll(
      { kubeconfig, label_selector: 'cert=ip' },
      { tls: { ca_file: pki.otherCa.certFile, insecure_skip_verify: true }, auth: { token_file: tokenFile } },
    );
    collected(outcomes);
    const warning = logLines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => /insecure_skip_verify/.test(l.msg));
    expect(warning?.level).toBe(40);
  });

  it('plain http on the read-only port, never sending cluster credentials', async () => {
    const outcomes = await scrapeAll(
      { kubeconfig, label_selector: 'cert=ip', port: sim.port },
      { scheme: 'http' },
    );
    collected(outcomes);
  });

  it('API-server proxy: /api/v1/nodes/<name>/proxy/stats/summary', async () => {
    const before = api.requests('nodes', 'list');
    const served = ipKubelets.served(sim.nodes[1]?.name ?? '');
    const outcomes = await scrapeAll({ kubeconfig, label_selector: 'cert=ip' }, { via: 'apiserver_proxy' });
    collected(outcomes);
    expect(api.requests('nodes', 'list')).toBe(before + 1);
    expect(ipKubelets.served(sim.nodes[1]?.name ?? '')).toBe(served + 1);
  });

  it('API-server proxy over plain http: its credentials are held back unless allow_insecure_token', async () => {
    const plain = await startFakeApiServer({
      tokens: [SA_TOKEN],
      kubeletClient: { scheme: 'https', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    });
    try {
      for (const n of ipKubelets.nodes) {
        plain.state.put('nodes', nodeObject({ name: n.name, address: n.address, port: n.port }));
      }
      // client-node takes an http server only with insecure-skip-tls-verify (as kubectl proxy setups have it).
      const httpKubeconfig = join(dir, 'kubeconfig-http');
      await writeFile(
        httpKubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'plain',
          clusters: [{ name: 'plain', cluster: { server: plain.url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'plain', user: { token: SA_TOKEN } }],
          contexts: [{ name: 'plain', context: { cluster: 'plain', user: 'plain' } }],
        }),
      );
      logLines.length = 0;
      const held = await scrapeAll({ kubeconfig: httpKubeconfig }, { via: 'apiserver_proxy' });
      expect(held.map((o) => [o.reason, /answered 401/.test(o.message ?? '')])).toEqual([
        ['http_status', true],
        ['http_status', true],
      ]);
      expect(logLines.filter((l) => l.includes('is plain http: its credentials'))).toHaveLength(1);
      const allowed = await scrapeAll(
        { kubeconfig: httpKubeconfig },
        { via: 'apiserver_proxy', allow_insecure_token: true },
      );
      collected(allowed);
    } finally {
      await plain.stop();
    }
  });

  it('a wrong token gives a 401 per node saying what to check, without the token', async () => {
    const tokenFile = join(dir, 'token-wrong');
    await writeFile(tokenFile, WRONG_TOKEN);
    logLines.length = 0;
    const outcomes = await scrapeAll(
      { kubeconfig, label_selector: 'cert=ip' },
      { tls: { ca_file: pki.ca.certFile, insecure_skip_verify: false }, auth: { token_file: tokenFile } },
    );
    expect(outcomes.map((o) => o.reason)).toEqual(['http_status', 'http_status']);
    for (const o of outcomes) {
      expect(o.message).toContain(`node ${o.node}:`);
      expect(o.message).toMatch(
        /answered 401 \(unauthorized: check the bearer token or client certificate; using/,
      );
      expect(o.message).toContain(`token file ${tokenFile}`);
      expect(o.message).not.toContain(WRONG_TOKEN);
    }
    expect(logLines.join('')).not.toContain(WRONG_TOKEN);
    expect(logLines.join('')).not.toContain(SA_TOKEN);
  });

  it('a CA mismatch is reported as such, with reason tls', async () => {
    const outcomes = await scrapeAll(
      { kubeconfig, label_selector: 'cert=ip' },
      { tls: { ca_file: pki.otherCa.certFile, insecure_skip_verify: false } },
    );
    expect(outcomes.map((o) => o.reason)).toEqual(['tls', 'tls']);
    for (const o of outcomes) {
      expect(o.message).toMatch(/unable to verify|self.signed|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i);
      expect(o.message).toContain(`CA ${pki.otherCa.certFile}`);
      expect(o.message).toMatch(/must be signed by the configured CA/);
    }
  });

  it('re-reads a token file when it rotates', async () => {
    const tokenFile = join(dir, 'token-rotating');
    await writeFile(tokenFile, WRONG_TOKEN);
    let now = Date.now();
    const clock: Clock = { now: () => now, scheduler: asyncScheduler };
    const env = inClusterEnv();
    const d = new KubernetesDiscovery(
      kubernetesDiscoverySchema.parse({ in_cluster: true, metadata: false, label_selector: 'cert=ip' }),
      { defaultPort: 10250, provideMetadata: () => undefined, env, serviceAccountDir, clock, logger },
    );
    await d.start();
    const client = new KubeletClient(
      {
        timeoutMs: 5000,
        maxResponseBytes: 64 << 20,
        ...kubeletAccess({ scheme: 'https', via: 'direct', auth: { token_file: tokenFile } }, d, {
          baseDir: dir,
          clock,
          logger,
        }),
      },
      clock,
    );
    try {
      const node = d.nodes()[0];
      if (node === undefined) throw new Error('no node discovered');
      expect((await scrapeOne(client, node)).reason).toBe('http_status');
      await writeFile(tokenFile, SA_TOKEN);
      now += 10_000;
      expect((await scrapeOne(client, node)).sets).toBeGreaterThan(10);
    } finally {
      await client.close();
      await d.stop();
    }
  });
});
