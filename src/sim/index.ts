/**
 * The simulated cluster: fake kubelets over real HTTP on loopback, built from real captured payloads.
 *
 * @example
 * import { startSimulatedCluster } from './sim/index.js';
 * const cluster = await startSimulatedCluster({ nodes: 3 });
 */
export { nodeAddress } from './address.js';
export {
  startSimulatedCluster,
  type SimulatedCluster,
  type SimulatedClusterOptions,
  type SimulatedNode,
} from './cluster.js';
export type { KubeletFault } from './faults.js';
export { HOSTILE_PAYLOADS, type HostilePayload } from './hostile.js';
export { runSimulatorProcess, type SimulatorProcessIo } from './process.js';
export { TEMPLATE_NAMES } from './template.js';
