import type { MetadataProvider } from '../src/component/metadata.js';
import { simulatedNodeStates } from '../src/sim/cluster.js';
import { simulatedMetadata } from '../src/sim/metadata.js';

export interface SimulatedLayoutOptions {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly seed: number;
}

/**
 * What the API server of a simulated cluster would say (pods, namespaces, nodes), built in this process without
 * starting any server: the simulator runs in its own process, and these are the same nodes it builds from the
 * same options (names and uids come from the seed), by the same function (simulatedNodeStates).
 *
 * @example
 * const meta = simulatedClusterMetadata({ nodes: 100, podsPerNode: 30, seed: 1 });
 * meta.warm(); // 3000
 * meta.node('sim-node-001')?.capacity.cpu;
 */
export function simulatedClusterMetadata(
  options: SimulatedLayoutOptions,
): MetadataProvider & { warm(): number } {
  // The bench's simulator runs without restarts, so restart counts stay those of the templates.
  const states = simulatedNodeStates({ ...options, restartEvery: 0 }, Date.now());
  const metadata = simulatedMetadata(states, options.seed);
  return {
    pod: (namespace, name) => metadata.pod(namespace, name),
    namespace: (name) => metadata.namespace(name),
    node: (name) => metadata.node(name),
    /** Looks every pod and node up once, so the metadata's lazily built objects exist before the pipeline runs. */
    warm() {
      let pods = 0;
      for (const state of states) {
        metadata.node(state.name);
        const templatePods = state.layout.template.summary.pods;
        state.layout.slots.forEach((slot, i) => {
          const namespace = templatePods[slot.templatePod]!.podRef.namespace;
          metadata.namespace(namespace);
          if (metadata.pod(namespace, state.podNames[i]!) !== undefined) pods++;
        });
      }
      return pods;
    },
  };
}
