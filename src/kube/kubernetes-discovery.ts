import type { z } from 'zod';
import { systemClock, type Clock } from '../component/clock.js';
import { silentLogger, type Logger } from '../component/logger.js';
import type { Telemetry } from '../component/telemetry.js';
import { ConfigError, HeapstreamError } from '../component/errors.js';
import { ApiClient } from './api-client.js';
import type { kubernetesDiscoverySchema } from './discovery-config.js';
import { resolveClusterAccess, type ClusterAccess } from './kubeconfig.js';
import { MetadataCache } from './metadata-cache.js';
import type { MetadataProvider } from '../component/metadata.js';
import { describeNode, type DiscoveredNode } from './node-address.js';
import type { NodeDiscovery, NodeTarget } from '../component/node-target.js';
import { Reflector, type KubeObject, type ReflectorStatus, type ReflectorStore } from './reflector.js';

export type KubernetesDiscoveryConfig = z.output<typeof kubernetesDiscoverySchema>;

export interface KubernetesDiscoveryContext {
  /** The source's port: used when a node advertises no kubelet port and none is configured. */
  readonly defaultPort: number;
  readonly provideMetadata: (provider: MetadataProvider) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
  /** Environment and paths for finding the kubeconfig or service account; tests point them at temp files. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
  readonly serviceAccountDir?: string;
}

/** A node discovery does not scrape, with the reason: NotReady, or no usable address. */
export interface SkippedNode {
  readonly name: string;
  readonly reason: string;
}

/**
 * Discovers nodes by list + watch on the API server: nodes that join or leave, or turn Ready or NotReady,
 * take effect at the next `nodes()` call (the next cycle). With `metadata`, it also keeps the metadata cache
 * (pods, namespaces, nodes, optionally ReplicaSets and Jobs) and hands it to the enrichers.
 *
 * @example
 * const discovery = new KubernetesDiscovery(kubernetesDiscoverySchema.parse({}), { defaultPort: 10250,
 *   provideMetadata: (m) => (metadata = m), clock, logger });
 * await discovery.start(); discovery.nodes(); // [{ name: 'node-1', address: '10.0.0.5', port: 10250 }]
 */
export class KubernetesDiscovery implements NodeDiscovery {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly known = new Map<string, DiscoveredNode>();
  private targets: readonly NodeTarget[] = [];
  private skippedNodes: readonly SkippedNode[] = [];
  private dirty = true;
  private clusterAccess: ClusterAccess | undefined;
  private api: ApiClient | undefined;
  private reflectors: { readonly what: string; readonly reflector: Reflector }[] = [];
  private readonly metadataCache: MetadataCache | undefined;

  constructor(
    private readonly config: KubernetesDiscoveryConfig,
    private readonly ctx: KubernetesDiscoveryContext,
  ) {
    this.clock = ctx.clock ?? systemClock();
    this.logger = ctx.logger ?? silentLogger();
    this.metadataCache = config.metadata ? new MetadataCache(config.owners) : undefined;
  }

  async start(): Promise<void> {
    const access = await resolveClusterAccess({
      clock: this.clock,
      ...(this.config.kubeconfig === undefined ? {} : { kubeconfig: this.config.kubeconfig }),
      ...(this.config.context === undefined ? {} : { context: this.config.context }),
      ...(this.config.in_cluster === undefined ? {} : { inCluster: this.config.in_cluster }),
      ...(this.ctx.env === undefined ? {} : { env: this.ctx.env }),
      ...(this.ctx.homeDir === undefined ? {} : { homeDir: this.ctx.homeDir }),
      ...(this.ctx.serviceAccountDir === undefined ? {} : { serviceAccountDir: this.ctx.serviceAccountDir }),
    });
    this.clusterAccess = access;
    this.api = new ApiClient(access);
    this.logger.info(
      { server: access.server, origin: access.origin },
      'kubernetes discovery: using the API server',
    );
    const nodeStore = this.metadataCache
      ? fanOut(this.nodeStore, this.metadataCache.nodeStore)
      : this.nodeStore;
    this.add('nodes', '/api/v1/nodes', nodeStore, this.config.label_selector);
    if (this.metadataCache !== undefined) {
      this.add('pods', '/api/v1/pods', this.metadataCache.pods);
      this.add('namespaces', '/api/v1/namespaces', this.metadataCache.namespaceStore);
      if (this.config.owners === 'watch') {
        this.add('replicasets', '/apis/apps/v1/replicasets', this.metadataCache.replicaSetStore);
        this.add('jobs', '/apis/batch/v1/jobs', this.metadataCache.jobStore);
      }
    }
    try {
      await Promise.all(this.reflectors.map((r) => r.reflector.start()));
    } catch (err) {
      await this.stop();
      // Only a refusal ends the first list (401/403, see Reflector): credentials or RBAC to fix in the config.
      throw new ConfigError([`discovery.kubernetes: ${(err as Error).message}`], { cause: err });
    }
    if (this.metadataCache !== undefined) this.ctx.provideMetadata(this.metadataCache);
  }

  nodes(): readonly NodeTarget[] {
    if (this.dirty) this.rebuild();
    this.reportCacheSize();
    return this.targets;
  }

  /** Called once per cycle (with `nodes()`), which is often enough for a size gauge. */
  private reportCacheSize(): void {
    const t = this.ctx.telemetry;
    if (t === undefined || this.metadataCache === undefined) return;
    t.describe('heapstream_metadata_objects', 'Objects held by the metadata cache, by kind.');
    const stats = this.metadataCache.stats();
    t.gauge('heapstream_metadata_objects', { kind: 'pod' }).set(stats.pods);
    t.gauge('heapstream_metadata_objects', { kind: 'namespace' }).set(stats.namespaces);
    t.gauge('heapstream_metadata_objects', { kind: 'node' }).set(stats.nodes);
  }

  /** Nodes known but not scraped, and why; refreshed with `nodes()`. */
  skipped(): readonly SkippedNode[] {
    if (this.dirty) this.rebuild();
    return this.skippedNodes;
  }

  /** The API server access in use: kubelet access modes build on it (proxy mode, in-cluster token and CA). */
  get access(): ClusterAccess {
    if (this.clusterAccess === undefined) throw new HeapstreamError('kubernetes discovery: not started');
    return this.clusterAccess;
  }

  /** The metadata cache, when `metadata` is on. */
  get metadata(): MetadataCache | undefined {
    return this.metadataCache;
  }

  status(): Readonly<Record<string, ReflectorStatus>> {
    return Object.fromEntries(this.reflectors.map((r) => [r.what, r.reflector.status()]));
  }

  async stop(): Promise<void> {
    const reflectors = this.reflectors;
    this.reflectors = [];
    await Promise.all(reflectors.map((r) => r.reflector.stop()));
    await this.api?.close();
    this.api = undefined;
  }

  private add(what: string, path: string, store: ReflectorStore, labelSelector?: string): void {
    if (this.api === undefined) return;
    const reflector = new Reflector({
      api: this.api,
      path,
      store,
      clock: this.clock,
      logger: this.logger,
      backoff: { initialMs: this.config.retry_backoff, maxMs: this.config.retry_backoff_max },
      ...(this.ctx.telemetry === undefined ? {} : { telemetry: this.ctx.telemetry }),
      ...(labelSelector === undefined ? {} : { labelSelector }),
    });
    this.reflectors.push({ what, reflector });
  }

  private readonly nodeStore: ReflectorStore = {
    retain: (keys) => {
      for (const name of [...this.known.keys()]) if (!keys.has(name)) this.removeNode(name);
    },
    upsert: (item) => this.upsertNode(item),
    remove: (item) => this.removeNode(nameOf(item)),
  };

  private upsertNode(item: KubeObject): void {
    const node = describeNode(item, {
      addressTypes: this.config.address_types,
      fallbackPort: this.ctx.defaultPort,
      ...(this.config.port === undefined ? {} : { port: this.config.port }),
    });
    const before = this.known.get(node.name);
    this.known.set(node.name, node);
    this.dirty = true;
    if (before === undefined)
      this.logger.info({ node: node.name }, `kubernetes discovery: node ${node.name} joined`);
    const wasScraped = before !== undefined && this.scraped(before);
    if (wasScraped && !this.scraped(node)) {
      this.logger.warn(
        { node: node.name },
        `kubernetes discovery: node ${node.name} ${this.skipReason(node)}`,
      );
    } else if (before !== undefined && !wasScraped && this.scraped(node)) {
      this.logger.info({ node: node.name }, `kubernetes discovery: node ${node.name} is scraped again`);
    }
  }

  private removeNode(name: string): void {
    if (!this.known.delete(name)) return;
    this.dirty = true;
    this.logger.info({ node: name }, `kubernetes discovery: node ${name} left`);
  }

  private scraped(node: DiscoveredNode): boolean {
    return node.target !== undefined && (node.ready || !this.config.skip_not_ready);
  }

  private skipReason(node: DiscoveredNode): string {
    if (node.target === undefined) return `is not scraped: ${node.skipReason ?? 'no address'}`;
    return 'is NotReady: not scraped until Ready (set skip_not_ready: false to scrape it anyway)';
  }

  private rebuild(): void {
    const targets: NodeTarget[] = [];
    const skipped: SkippedNode[] = [];
    for (const node of this.known.values()) {
      if (node.target !== undefined && this.scraped(node)) targets.push(node.target);
      else skipped.push({ name: node.name, reason: this.skipReason(node) });
    }
    targets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.targets = targets;
    this.skippedNodes = skipped;
    this.dirty = false;
    const t = this.ctx.telemetry;
    if (t !== undefined) {
      t.describe('heapstream_discovery_nodes', 'Nodes known to discovery, by state (scraped or skipped).');
      t.gauge('heapstream_discovery_nodes', { state: 'scraped' }).set(targets.length);
      t.gauge('heapstream_discovery_nodes', { state: 'skipped' }).set(skipped.length);
    }
  }
}

function nameOf(item: KubeObject): string {
  return ((item.metadata ?? {}) as { name?: string }).name ?? '';
}

function fanOut(...stores: ReflectorStore[]): ReflectorStore {
  return {
    retain: (keys) => stores.forEach((s) => s.retain(keys)),
    upsert: (item) => stores.forEach((s) => s.upsert(item)),
    remove: (item) => stores.forEach((s) => s.remove(item)),
  };
}
