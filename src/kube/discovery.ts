import type { Clock } from '../component/clock.js';
import type { ComponentContext } from '../component/component.js';
import type { Logger } from '../component/logger.js';
import type { Telemetry } from '../component/telemetry.js';
import { KubernetesDiscovery } from './kubernetes-discovery.js';
import type { MetadataProvider } from '../component/metadata.js';
import type { DiscoveryConfig } from './discovery-config.js';
import type {
  NodeDiscovery,
  NodeTarget,
  SimulatedClusterHandle,
  SimulatedClusterStarter,
} from '../component/node-target.js';
import { ConfigError } from '../component/errors.js';
import { staticDiscovery } from './static-discovery.js';

export interface DiscoveryContext {
  /** The source's port, used for static nodes that name none. */
  readonly defaultPort: number;
  /** Lets discovery that knows the cluster's objects hand them to the enrichers. */
  readonly provideMetadata: (provider: MetadataProvider) => void;
  /** Time, logs and counters for discovery that watches the cluster (`kubernetes`); defaults if absent. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
  /** The pipeline's kept state (`ctx.keep`): the simulated cluster goes on across a reload through it. */
  readonly keep?: ComponentContext['keep'];
  /** The simulator, for `simulated` discovery; the composition root provides it (production code never imports it). */
  readonly startSimulatedCluster?: SimulatedClusterStarter;
}

/** Builds the node discovery named in a source's `discovery:` key. */
export function createDiscovery(config: DiscoveryConfig, ctx: DiscoveryContext): NodeDiscovery {
  if (config.static !== undefined) {
    return staticDiscovery(
      config.static.map((n): NodeTarget => ({
        name: n.name,
        address: n.address,
        port: n.port ?? ctx.defaultPort,
        ...(n.hostname === undefined ? {} : { hostname: n.hostname }),
        ...(n.host_id === undefined ? {} : { hostId: n.host_id }),
      })),
    );
  }
  if (config.simulated !== undefined) return simulatedDiscovery(config.simulated, ctx);
  if (config.kubernetes !== undefined) return new KubernetesDiscovery(config.kubernetes, ctx);
  throw new Error('discovery: no kind set (the config schema should have caught this)');
}

/**
 * Starts the simulated cluster. With `ctx.keep`, the cluster is kept state: a reload whose `simulated` keys did not
 * change goes on scraping the same fake kubelets, whose counters and restarts continue, so rates have no gap; the
 * kept state stops it once no pipeline claims it. Without, `stop()` stops it.
 */
function simulatedDiscovery(
  options: NonNullable<DiscoveryConfig['simulated']>,
  ctx: DiscoveryContext,
): NodeDiscovery {
  const start = ctx.startSimulatedCluster;
  if (start === undefined) {
    throw new ConfigError([
      'source.discovery.simulated: this registry has no simulator; create it with createBuiltinRegistry(), or call provideSimulator()',
    ]);
  }
  const startCluster = () =>
    start({
      nodes: options.nodes,
      port: options.port,
      firstAddress: options.first_address,
      seed: options.seed,
      ...(options.pods_per_node === undefined ? {} : { podsPerNode: options.pods_per_node }),
    });
  const kept =
    ctx.keep === undefined
      ? undefined
      : ctx.keep(`simulated discovery ${JSON.stringify(options)}`, startCluster, async (starting) =>
          (await starting).stop(),
        );
  let cluster: SimulatedClusterHandle | undefined;
  return {
    async start() {
      cluster = await (kept ?? startCluster());
      ctx.provideMetadata(cluster.metadata());
    },
    nodes: () => cluster?.nodes ?? [],
    async stop() {
      if (kept === undefined) await cluster?.stop();
      cluster = undefined;
    },
  };
}
