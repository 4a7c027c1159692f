import type { NodeDiscovery, NodeTarget } from '../component/node-target.js';

/** A node list written in the config: it never changes. */
export function staticDiscovery(nodes: readonly NodeTarget[]): NodeDiscovery {
  return {
    start: () => Promise.resolve(),
    nodes: () => nodes,
    stop: () => Promise.resolve(),
  };
}
