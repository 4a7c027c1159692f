import type { MetadataProvider } from './metadata.js';

/** A node to scrape: where its kubelet listens, and the names Heapster put on its sets. */
export interface NodeTarget {
  readonly name: string;
  /** IP address or host name the kubelet is reached at. */
  readonly address: string;
  readonly port: number;
  /** Heapster's `hostname` label; defaults to the node name. */
  readonly hostname?: string;
  /** Heapster's `host_id` label (cloud instance id), when known. */
  readonly hostId?: string;
}

/**
 * Where the list of nodes comes from: static config, the simulator, or the Kubernetes API. `nodes()` is read
 * at every tick, so nodes that join or leave take effect by the next cycle.
 */
export interface NodeDiscovery {
  start(): Promise<void>;
  nodes(): readonly NodeTarget[];
  stop(): Promise<void>;
}

/** What `discovery: { simulated }` asks of the simulator: the fake kubelets it serves and their objects. */
export interface SimulatedClusterHandle {
  readonly nodes: readonly NodeTarget[];
  metadata(): MetadataProvider;
  stop(): Promise<void>;
}

export interface SimulatedClusterRequest {
  readonly nodes: number;
  readonly port: number;
  readonly firstAddress: string;
  readonly seed: number;
  readonly podsPerNode?: number;
}

/**
 * Starts a simulated cluster. Production code never imports the simulator: the composition root hands this
 * function to the registry (`createBuiltinRegistry`), and discovery finds it there.
 */
export type SimulatedClusterStarter = (request: SimulatedClusterRequest) => Promise<SimulatedClusterHandle>;
