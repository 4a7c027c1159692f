/**
 * The bench's simulator process: `node --import tsx bench/simulator.ts <nodes> <podsPerNode> <seed>`. Prints one
 * JSON line per node and serves until SIGTERM. Containers never restart, so every cycle decodes the same shape and
 * the bench's in-process metadata (bench/sim-metadata.ts) stays in step with the payloads.
 */
import { runSimulatorProcess } from '../src/sim/index.js';

const [nodes, podsPerNode, seed] = process.argv.slice(2).map(Number);
if (!Number.isInteger(nodes) || !Number.isInteger(podsPerNode) || !Number.isInteger(seed)) {
  process.stderr.write('usage: bench/simulator.ts <nodes> <pods-per-node> <seed>\n');
  process.exitCode = 2;
} else {
  await runSimulatorProcess({
    nodes: nodes!,
    podsPerNode: podsPerNode!,
    seed: seed!,
    port: 0,
    restartEvery: 0,
  });
}
