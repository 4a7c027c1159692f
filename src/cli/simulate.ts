import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedControlPlane } from '../sim/apiserver/control-plane.js';
import { startSimulatedCluster } from '../sim/index.js';

/**
 * `heapstream simulate`: fake kubelets on loopback until SIGINT/SIGTERM; prints each node as a JSON line.
 * With `--control-plane`, also a fake API server and HTTPS kubelets, and a kubeconfig pointing at them, so
 * `discovery: { kubernetes: … }` can be tried without a cluster.
 */
export async function simulateCommand(opts: {
  nodes: number;
  podsPerNode?: number;
  port: number;
  firstAddress: string;
  seed: number;
  restartEvery?: number;
  controlPlane?: boolean;
}): Promise<number> {
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
    const dir = await mkdtemp(join(tmpdir(), 'heapstream-sim-'));
    const plane = await startSimulatedControlPlane({
      nodes: cluster.nodes,
      metadata: cluster.metadata(),
      dir,
    });
    stopControlPlane = async () => {
      await plane.stop();
      await rm(dir, { recursive: true, force: true });
    };
    process.stderr.write(
      `fake API server and HTTPS kubelets are up; kubeconfig: ${plane.kubeconfigPath}\n` +
        `a pipeline source that scrapes them through it:\n${plane.pipelineSource}\n`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await stopControlPlane();
  await cluster.stop();
  return 0;
}
