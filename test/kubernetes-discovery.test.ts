import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesDiscoverySchema } from '../src/kube/discovery-config.js';
import { KubernetesDiscovery } from '../src/kube/kubernetes-discovery.js';
import type { MetadataProvider } from '../src/component/metadata.js';
import { ConfigError } from '../src/component/errors.js';
import {
  controllerObject,
  namespaceObject,
  nodeObject,
  podObject,
  startFakeApiServer,
  writeSimKubeconfig,
  type FakeApiServer,
} from '../src/sim/apiserver/index.js';
import { createTestPki, type TestPki } from '../src/sim/tls/pki.js';

const TOKEN = 'discovery-test-token';

let pki: TestPki;
let dir: string;
let api: FakeApiServer;
let kubeconfig: string;
const running: KubernetesDiscovery[] = [];

beforeAll(async () => {
  pki = await createTestPki({ ipSans: ['127.0.1.1'] });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-discovery-'));
});

afterAll(async () => {
  await pki.remove();
  await rm(dir, { recursive: true, force: true });
});

async function freshApi(bookmarkIntervalMs = 200): Promise<void> {
  api = await startFakeApiServer({
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key },
    tokens: [TOKEN],
    bookmarkIntervalMs,
  });
  kubeconfig = join(dir, `kubeconfig-${Date.now()}`);
  await writeSimKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, token: TOKEN });
}

afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  await api.stop();
});

function discovery(extra: Record<string, unknown> = {}) {
  let metadata: MetadataProvider | undefined;
  const d = new KubernetesDiscovery(
    kubernetesDiscoverySchema.parse({
      kubeconfig,
      retry_backoff: '50ms',
      retry_backoff_max: '200ms',
      ...extra,
    }),
    { defaultPort: 10250, provideMetadata: (m) => (metadata = m), env: {} },
  );
  running.push(d);
  return { d, metadata: () => metadata };
}

/** Polls until `check` holds: watch events arrive asynchronously, within one cycle in practice. */
async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const names = (d: KubernetesDiscovery) => d.nodes().map((n) => n.name);

describe('kubernetes discovery against the fake API server over HTTPS', () => {
  it('lists nodes with the preferred address and the advertised kubelet port', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'node-b', address: '127.0.1.2', port: 11250 }));
    api.state.put(
      'nodes',
      nodeObject({
        name: 'node-a',
        address: '127.0.1.1',
        port: 10250,
        providerID: 'aws:///eu-west-1a/i-0abc',
        addresses: [
          { type: 'ExternalIP', address: '198.51.100.7' },
          { type: 'InternalIP', address: '127.0.1.1' },
          { type: 'Hostname', address: 'ip-10-0-0-1' },
        ],
      }),
    );
    const { d } = discovery();
    await d.start();
    expect(d.nodes()).toEqual([
      { name: 'node-a', address: '127.0.1.1', port: 10250, hostname: 'ip-10-0-0-1', hostId: 'i-0abc' },
      { name: 'node-b', address: '127.0.1.2', port: 11250, hostname: 'node-b' },
    ]);
  });

  it('honours address_types, a fixed port and a label selector', async () => {
    await freshApi();
    api.state.put(
      'nodes',
      nodeObject({ name: 'w1', address: '127.0.1.1', port: 10250, labels: { role: 'worker' } }),
    );
    api.state.put(
      'nodes',
      nodeObject({ name: 'm1', address: '127.0.1.2', port: 10250, labels: { role: 'master' } }),
    );
    const { d } = discovery({ label_selector: 'role=worker', address_types: ['Hostname'], port: 10255 });
    await d.start();
    expect(d.nodes()).toEqual([{ name: 'w1', address: 'w1', port: 10255, hostname: 'w1' }]);
    // A label change moves a node into the selection: the watch reports it as ADDED.
    api.state.put(
      'nodes',
      nodeObject({ name: 'm2', address: '127.0.1.3', port: 10250, labels: { role: 'master' } }),
    );
    api.state.put(
      'nodes',
      nodeObject({ name: 'm2', address: '127.0.1.3', port: 10250, labels: { role: 'worker' } }),
    );
    await eventually(() => names(d).includes('m2'), 'm2 to match the selector');
    api.state.put(
      'nodes',
      nodeObject({ name: 'w1', address: '127.0.1.1', port: 10250, labels: { role: 'gone' } }),
    );
    await eventually(() => !names(d).includes('w1'), 'w1 to leave the selection');
    expect(names(d)).toEqual(['m2']);
  });

  it('follows nodes joining, leaving and turning NotReady, and reports skipped nodes', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
    const { d } = discovery();
    await d.start();
    expect(names(d)).toEqual(['n1']);
    api.state.put('nodes', nodeObject({ name: 'n2', address: '127.0.1.2', port: 10250 }));
    await eventually(() => names(d).includes('n2'), 'n2 to join');
    api.state.delete('nodes', 'n1');
    await eventually(() => !names(d).includes('n1'), 'n1 to leave');
    api.state.put('nodes', nodeObject({ name: 'n2', address: '127.0.1.2', port: 10250, ready: false }));
    await eventually(() => names(d).length === 0, 'n2 to be skipped');
    expect(d.skipped()).toEqual([{ name: 'n2', reason: expect.stringContaining('NotReady') as string }]);
  });

  it('scrapes NotReady nodes when skip_not_ready is false', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'sick', address: '127.0.1.1', port: 10250, ready: false }));
    const { d } = discovery({ skip_not_ready: false });
    await d.start();
    expect(names(d)).toEqual(['sick']);
  });

  it('recovers by itself from a watch cut mid-stream, re-listing', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
    const { d } = discovery();
    await d.start();
    await eventually(() => api.openWatches() >= 1, 'the node watch to open');
    const listsBefore = api.requests('nodes', 'list');
    expect(api.dropWatches()).toBeGreaterThanOrEqual(1);
    // While the watch is down, a node joins and another leaves: the re-list must catch both.
    api.state.put('nodes', nodeObject({ name: 'n2', address: '127.0.1.2', port: 10250 }));
    api.state.delete('nodes', 'n1');
    await eventually(() => names(d).join() === 'n2', 'the node list to recover after the cut');
    expect(api.requests('nodes', 'list')).toBeGreaterThan(listsBefore);
    await eventually(() => api.openWatches() >= 1, 'a new watch');
    api.state.put('nodes', nodeObject({ name: 'n3', address: '127.0.1.3', port: 10250 }));
    await eventually(() => names(d).includes('n3'), 'events on the new watch');
  });

  it('resumes a watch the server ends, and re-lists when its resourceVersion is gone (410)', async () => {
    // No bookmarks here: the client's resourceVersion stays at the last node event, so compaction can pass it.
    await freshApi(60_000);
    api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
    const { d } = discovery();
    await d.start();
    await eventually(() => api.openWatches() >= 1, 'the node watch to open');
    expect(api.requests('nodes', 'list')).toBe(1);
    // A clean end (timeoutSeconds) resumes from the last resourceVersion: no re-list.
    api.endWatches();
    await eventually(() => api.requests('nodes', 'watch') >= 2, 'the watch to resume');
    expect(api.requests('nodes', 'list')).toBe(1);
    // Compaction expires that version: the resumed watch gets a 410 ERROR event and the client re-lists.
    api.state.put('nodes', nodeObject({ name: 'n2', address: '127.0.1.2', port: 10250 }));
    await eventually(() => names(d).includes('n2'), 'n2 to join');
    await eventually(() => api.openWatches() >= 1, 'the resumed watch to open');
    api.state.put('namespaces', namespaceObject('elsewhere')); // moves the revision past the node watch's
    api.state.compact();
    api.endWatches();
    api.state.delete('nodes', 'n1');
    await eventually(() => api.requests('nodes', 'list') === 2, 'a re-list after 410');
    await eventually(() => names(d).join() === 'n2', 'the node list after the re-list');
  });

  it('re-lists with backoff while the API server answers errors, then recovers', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
    const { d } = discovery();
    await d.start();
    await eventually(() => api.openWatches() >= 1, 'the node watch to open');
    api.failNext('nodes', 500, 3);
    api.dropWatches();
    api.state.put('nodes', nodeObject({ name: 'n3', address: '127.0.1.3', port: 10250 }));
    await eventually(
      () => /answered 500/.test(d.status().nodes?.lastError ?? ''),
      'the 500 to show in status',
    );
    expect(d.status().nodes?.synced).toBe(false);
    await eventually(() => names(d).join() === 'n1,n3', 'recovery after three 500s');
    expect(api.requests('nodes', 'list')).toBeGreaterThanOrEqual(5);
    expect(d.status().nodes?.synced).toBe(true);
  });

  it('fails start with a message naming the kubeconfig when the token is wrong', async () => {
    await freshApi();
    await writeSimKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, token: 'wrong' });
    const { d } = discovery();
    const started = d.start();
    await expect(started).rejects.toThrow(
      /401 \(unauthorized: check the token or client certificate of kubeconfig/,
    );
    // A config mistake found at start: `run` prints it as one line and exits 2.
    await expect(started).rejects.toBeInstanceOf(ConfigError);
  });

  it('feeds the metadata cache: pods with parsed resources and owners, namespaces, nodes', async () => {
    await freshApi();
    api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
    api.state.put('namespaces', namespaceObject('shop', { team: 'web' }));
    api.state.put(
      'pods',
      podObject({
        namespace: 'shop',
        name: 'web-5d8f7c6b9-abcde',
        nodeName: 'n1',
        labels: { app: 'web', 'pod-template-hash': '5d8f7c6b9' },
        owner: { kind: 'ReplicaSet', name: 'web-5d8f7c6b9' },
        containers: [
          {
            name: 'app',
            image: 'web:1',
            requests: { cpu: '250m', memory: '64Mi' },
            limits: { cpu: '1' },
            restarts: 3,
          },
        ],
      }),
    );
    api.state.put(
      'replicasets',
      controllerObject('ReplicaSet', 'shop', 'web-5d8f7c6b9', { kind: 'Deployment', name: 'web' }),
    );
    const { d, metadata } = discovery({ owners: 'watch' });
    await d.start();
    const meta = metadata();
    expect(meta).toBeDefined();
    const pod = meta?.pod('shop', 'web-5d8f7c6b9-abcde');
    expect(pod?.owner).toEqual({ kind: 'Deployment', name: 'web' });
    expect(pod?.containers[0]?.requests).toEqual({ cpu: 250, memory: 64 * 1024 * 1024 });
    expect(pod?.restartCounts).toEqual({ app: 3 });
    expect(meta?.namespace('shop')?.labels.team).toBe('web');
    expect(meta?.node('n1')?.allocatable.cpu).toBe(3800);
    // A pod deleted on the server is gone from the cache by the next cycle.
    api.state.delete('pods', 'web-5d8f7c6b9-abcde', 'shop');
    await eventually(
      () => meta?.pod('shop', 'web-5d8f7c6b9-abcde') === undefined,
      'the pod to leave the cache',
    );
  });
});
