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
