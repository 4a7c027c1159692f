import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { MetadataProvider, PodMeta } from '../../component/metadata.js';
import { seededRandom } from '../random.js';
import { createTestPki, type TestPki } from '../tls/pki.js';
import { startTlsKubelets, type PlainKubelet, type TlsKubelets } from '../tls/tls-kubelet.js';
import { writeSimKubeconfig } from './kubeconfig.js';
import { namespaceObject, nodeObject, podObject, type ApiObject } from './objects.js';
import { startFakeApiServer, type FakeApiServer } from './server.js';

export interface SimulatedControlPlaneOptions {
  /** The simulator's plain-HTTP kubelets (`SimulatedCluster.nodes`) and its metadata. */
  readonly nodes: readonly PlainKubelet[];
  readonly metadata: MetadataProvider;
  /** Directory for the kubeconfig, token file and certificates (created by the caller). */
  readonly dir: string;
  /** HTTPS API server and HTTPS kubelets (10250-style) with a generated CA. Default true. */
  readonly tls?: boolean;
  /** Churn period: pods are replaced and relabelled, nodes leave and rejoin. 0 (default) = no churn. */
  readonly churnEveryMs?: number;
  readonly seed?: number;
}

export interface SimulatedControlPlane {
  readonly api: FakeApiServer;
  /** A kubeconfig for `discovery: { kubernetes: { kubeconfig: … } }`; its token also works on the kubelets. */
  readonly kubeconfigPath: string;
  /** The same token in a file, for `auth.token_file`. */
  readonly tokenFile: string;
  /** The CA that signed the API server and kubelet certificates, for `tls.ca_file` (undefined without TLS). */
  readonly caFile: string | undefined;
  /** A `source:` block that scrapes the simulated cluster through the fake API server. */
  readonly pipelineSource: string;
  stop(): Promise<void>;
}

const TOKEN = 'heapstream-simulated-token';

/**
 * Starts the simulator's control plane next to its kubelets: a fake API server listing the simulated nodes
 * (and, with TLS, HTTPS kubelets in front of them) and their pods and namespaces, and writes a kubeconfig that
 * points at it. `heapstream simulate` calls it so that `discovery: { kubernetes: … }` can be tried locally.
 *
 * @example
 * const cluster = await startSimulatedCluster({ nodes: 3 });
 * const plane = await startSimulatedControlPlane({ nodes: cluster.nodes, metadata: cluster.metadata(), dir });
 * console.log(plane.kubeconfigPath, plane.pipelineSource);
 */
export async function startSimulatedControlPlane(
  options: SimulatedControlPlaneOptions,
): Promise<SimulatedControlPlane> {
  const tls = options.tls ?? true;
  let pki: TestPki | undefined;
  let kubelets: TlsKubelets | undefined;
  let api: FakeApiServer | undefined;
  let churn: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(churn);
    await api?.stop();
    await kubelets?.stop();
    await pki?.remove();
  };
  try {
    if (tls) {
      pki = await createTestPki({ ipSans: options.nodes.map((n) => n.address) });
      kubelets = await startTlsKubelets({ upstream: options.nodes, pki, tokens: [TOKEN] });
    }
    api = await startFakeApiServer({
      tokens: [TOKEN],
      ...(pki === undefined
        ? {}
        : {
            tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCa: pki.ca.cert },
            // The aggregation layer, so an extension API server (heapstream's metrics API) can sit behind it.
            frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
            kubeletClient: {
              scheme: 'https' as const,
              ca: pki.ca.cert,
              cert: pki.client.cert,
              key: pki.client.key,
            },
          }),
    });
    const served = kubelets?.nodes ?? options.nodes;
    const nodeObjects = served.map((n) => nodeObject({ name: n.name, address: n.address, port: n.port }));
    for (const node of nodeObjects) api.state.put('nodes', node);
    const pods = await podsOf(options.nodes, options.metadata);
    for (const ns of new Set(pods.map((p) => p.namespace))) {
      api.state.put('namespaces', namespaceObject(ns, { ...options.metadata.namespace(ns)?.labels }));
    }
    for (const pod of pods) api.state.put('pods', podFromMeta(pod));
    const kubeconfigPath = join(options.dir, 'kubeconfig');
    const tokenFile = join(options.dir, 'token');
    await writeSimKubeconfig(kubeconfigPath, {
      server: api.url,
      token: TOKEN,
      ...(pki === undefined ? {} : { caFile: pki.ca.certFile }),
    });
    await writeFile(tokenFile, TOKEN + '\n', { mode: 0o600 });
    if ((options.churnEveryMs ?? 0) > 0) {
      churn = setInterval(
        churnStep(api, nodeObjects, seededRandom(options.seed ?? 1, 99)),
        options.churnEveryMs,
      );
      churn.unref();
    }
    return {
      api,
      kubeconfigPath,
      tokenFile,
      caFile: pki?.ca.certFile,
      pipelineSource: [
        'source:',
        '  type: kubelet_summary',
        `  discovery: { kubernetes: { kubeconfig: ${kubeconfigPath} } }`,
        `  scheme: ${tls ? 'https' : 'http'}`,
      ].join('\n'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The pods each simulated kubelet reports, described by the simulator's metadata. */
async function podsOf(nodes: readonly PlainKubelet[], metadata: MetadataProvider): Promise<PodMeta[]> {
  const pods: PodMeta[] = [];
  for (const node of nodes) {
    const answer = await request(`http://${node.address}:${node.port}/stats/summary`);
    const summary = (await answer.body.json()) as {
      pods?: { podRef?: { name: string; namespace: string } }[];
    };
    for (const p of summary.pods ?? []) {
      const meta = p.podRef === undefined ? undefined : metadata.pod(p.podRef.namespace, p.podRef.name);
      if (meta !== undefined) pods.push(meta);
    }
  }
  return pods;
}

function podFromMeta(meta: PodMeta): ApiObject {
  const hash = meta.labels['pod-template-hash'];
  const owner =
    meta.owner?.kind === 'Deployment' && hash !== undefined
      ? { kind: 'ReplicaSet', name: `${meta.owner.name}-${hash}` }
      : meta.owner;
  return podObject({
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    nodeName: meta.nodeName,
    labels: { ...meta.labels },
    ...(owner === undefined ? {} : { owner }),
    ...(meta.startTime === undefined ? {} : { startTime: new Date(meta.startTime).toISOString() }),
    containers: meta.containers.map((c) => ({
      name: c.name,
      image: c.image,
      requests: quantities(c.requests),
      limits: quantities(c.limits),
      restarts: meta.restartCounts[c.name] ?? 0,
    })),
  });
}

function quantities(list: Readonly<Record<string, number>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [resource, value] of Object.entries(list))
    out[resource] = resource === 'cpu' ? `${value}m` : String(value);
  return out;
}

/** One step of churn: relabel a pod, replace a pod (new name, as a controller would), or a node leaves/rejoins. */
function churnStep(api: FakeApiServer, nodes: readonly ApiObject[], random: () => number): () => void {
  let away: ApiObject | undefined;
  let generation = 0;
  return () => {
    generation++;
    if (away !== undefined) {
      api.state.put('nodes', away);
      away = undefined;
      return;
    }
    const pods = api.state.list('pods');
    const pick = pods[Math.floor(random() * pods.length)];
    const roll = random();
    if (roll < 0.15 && nodes.length > 1) {
      away = nodes[Math.floor(random() * nodes.length)];
      if (away !== undefined) api.state.delete('nodes', away.metadata.name);
    } else if (pick !== undefined && roll < 0.6) {
      const labels = { ...pick.metadata.labels, 'heapstream.sim/generation': String(generation) };
      api.state.put('pods', { ...pick, metadata: { ...pick.metadata, labels } });
    } else if (pick !== undefined) {
      api.state.delete('pods', pick.metadata.name, pick.metadata.namespace);
      const name =
        pick.metadata.name.replace(/-[a-z0-9]{5}$/, '') + `-r${generation.toString(36).padStart(4, '0')}`;
      api.state.put('pods', {
        ...pick,
        metadata: { ...pick.metadata, name, uid: `${pick.metadata.uid}-${generation}` },
      });
    }
  };
}
