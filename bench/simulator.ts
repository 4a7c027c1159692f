/**
 * The bench's simulator process: `node --import tsx bench/simulator.ts <nodes> <podsPerNode> <seed>`. Prints one
 * JSON line per node and serves until SIGTERM, or until its standard input ends: the bench keeps it open, so a bench
 * that dies without stopping the simulator (killed, crashed) takes it along instead of leaving it serving. Containers
 * never restart, so every cycle decodes the same shape and
 * the bench's in-process metadata (bench/sim-metadata.ts) stays in step with the payloads.
 */
import { runSimulatorProcess } from '../src/sim/index.js';

const [nodes, podsPerNode, seed] = process.argv.slice(2).map(Number);
if (!Number.isInteger(nodes) || !Number.isInteger(podsPerNode) || !Number.isInteger(seed)) {
  process.stderr.write('usage: bench/simulator.ts <nodes> <pods-per-node> <seed>\n');
  process.exitCode = 2;
} else {
  const parentGone = new AbortController();
  process.stdin.on('end', () => parentGone.abort()).resume();
  await runSimulatorProcess(
    { nodes: nodes!, podsPerNode: podsPerNode!, seed: seed!, port: 0, restartEvery: 0 },
    { signal: parentGone.signal },
  );
  // The open standard input would keep this process alive after the servers close.
  process.stdin.destroy();
}
