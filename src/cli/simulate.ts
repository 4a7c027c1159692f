import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedControlPlane } from '../sim/apiserver/control-plane.js';
import { startSimulatedCluster } from '../sim/index.js';

/**
 * `heapstream simulate`: fake kubelets on loopback until SIGINT/SIGTERM; prints each node as a JSON line.
 * With `--control-plane`, also a fake API server and HTTPS kubelets, and a kubeconfig pointing at them, so
 * `discovery: { kubernetes: … }` can be tried without a cluster; `--dir` keeps that kubeconfig (and its token and
 * certificates) at a known place, and `--metrics-api` makes the fake API server serve metrics.k8s.io from a
 * heapstream `metrics_api` sink, as an APIService does, so `kubectl top` can be tried too.
 */
export async function simulateCommand(opts: {
  nodes: number;
  podsPerNode?: number;
  port: number;
  firstAddress: string;
  seed: number;
  restartEvery?: number;
  controlPlane?: boolean;
  dir?: string;
  metricsApi?: string;
}): Promise<number> {
  if (opts.controlPlane !== true && (opts.dir !== undefined || opts.metricsApi !== undefined)) {
    process.stderr.write('heapstream simulate: --dir and --metrics-api need --control-plane\n');
    return 2;
  }
  const metricsApi = opts.metricsApi === undefined ? undefined : metricsApiUrl(opts.metricsApi);
  if (metricsApi instanceof Error) {
    process.stderr.write(`heapstream simulate: --metrics-api: ${metricsApi.message}\n`);
    return 2;
  }
  const cluster = await startSimulatedCluster({
    nodes: opts.nodes,
    port: opts.port,
    firstAddress: opts.firstAddress,
    seed: opts.seed,
    ...(opts.podsPerNode === undefined ? {} : { podsPerNode: opts.podsPerNode }),
    ...(opts.restartEvery === undefined ? {} : { restartEvery: opts.restartEvery }),
  });
  for (const node of cluster.nodes) process.stdout.write(JSON.stringify(node) + '\n');
  process.stderr.write(
    `simulating ${cluster.nodes.length} kubelets on port ${cluster.port}; ` +
      `try: curl http://${cluster.nodes[0]?.address}:${cluster.port}/stats/summary — Ctrl-C stops\n`,
  );
  let stopControlPlane = (): Promise<void> => Promise.resolve();
  if (opts.controlPlane === true) {
    const keep = opts.dir !== undefined;
    const dir = keep ? opts.dir! : await mkdtemp(join(tmpdir(), 'heapstream-sim-'));
    if (keep) await mkdir(dir, { recursive: true });
    const plane = await startSimulatedControlPlane({
      nodes: cluster.nodes,
      metadata: cluster.metadata(),
      dir,
    });
    stopControlPlane = async () => {
      await plane.stop();
      if (!keep) await rm(dir, { recursive: true, force: true });
    };
    process.stderr.write(
      `fake API server and HTTPS kubelets are up; kubeconfig: ${plane.kubeconfigPath}\n` +
        `a pipeline source that scrapes them through it:\n${plane.pipelineSource}\n`,
    );
    if (metricsApi !== undefined) {
      // As deploy/apiservice.yaml: the sink's serving certificate (generated at its start) is not verified.
      await plane.api.setAggregatedApis([
        { group: 'metrics.k8s.io', version: 'v1beta1', url: metricsApi, insecureSkipTLSVerify: true },
      ]);
      process.stderr.write(
        `metrics.k8s.io/v1beta1 is served by ${metricsApi} (a metrics_api sink); once heapstream runs, try: ` +
          `kubectl --kubeconfig ${plane.kubeconfigPath} top pods -A\n`,
      );
    }
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await stopControlPlane();
  await cluster.stop();
  return 0;
}

/** The base URL of a metrics API, or why it is not one. */
function metricsApiUrl(text: string): string | Error {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return new Error(`"${text}" is not a URL; e.g. https://127.0.0.1:4443`);
  }
  if (url.protocol !== 'https:')
    return new Error(`"${text}" must be https (the metrics_api sink serves HTTPS)`);
  return url.origin;
}
