import type { Writable } from 'node:stream';
import { startSimulatedCluster, type SimulatedClusterOptions } from './cluster.js';

export interface SimulatorProcessIo {
  /** Where the node list goes, one JSON object per line. Default process.stdout. */
  readonly stdout?: Writable;
  /** Stops the simulator when aborted, in addition to SIGTERM and SIGINT. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a simulated cluster as its own process (for the bench): prints `{"name","address","port"}` per node as JSON
 * lines on stdout, then serves until SIGTERM or SIGINT, and resolves once every server is closed.
 *
 * @example
 * await runSimulatorProcess({ nodes: 5000, podsPerNode: 110, port: 10250 });
 */
export async function runSimulatorProcess(
  options: SimulatedClusterOptions,
  io: SimulatorProcessIo = {},
): Promise<void> {
  const cluster = await startSimulatedCluster(options);
  const stdout = io.stdout ?? process.stdout;
  const lines = cluster.nodes
    .map((n) => JSON.stringify({ name: n.name, address: n.address, port: n.port }))
    .join('\n');
  stdout.write(lines + '\n');
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      io.signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    if (io.signal?.aborted) done();
    else io.signal?.addEventListener('abort', done, { once: true });
  });
  await cluster.stop();
}
