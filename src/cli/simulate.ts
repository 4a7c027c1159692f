import { startSimulatedCluster } from '../sim/index.js';

/** `heapstream simulate`: fake kubelets on loopback until SIGINT/SIGTERM; prints each node as a JSON line. */
export async function simulateCommand(opts: {
  nodes: number;
  podsPerNode?: number;
  port: number;
  firstAddress: string;
  seed: number;
}): Promise<number> {
  const cluster = await startSimulatedCluster({
    nodes: opts.nodes,
    port: opts.port,
    firstAddress: opts.firstAddress,
    seed: opts.seed,
    ...(opts.podsPerNode === undefined ? {} : { podsPerNode: opts.podsPerNode }),
  });
  for (const node of cluster.nodes) process.stdout.write(JSON.stringify(node) + '\n');
  process.stderr.write(
    `simulating ${cluster.nodes.length} kubelets on port ${cluster.port}; ` +
      `try: curl http://${cluster.nodes[0]?.address}:${cluster.port}/stats/summary — Ctrl-C stops\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await cluster.stop();
  return 0;
}
