import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import type { SourceContext } from '../component/component.js';
import type { PipelineEvent } from '../model/types.js';
import { createDiscovery } from './discovery.js';
import type { DiscoveryConfig } from './discovery-config.js';
import { kubeletAccess } from './kubelet-access.js';
import { kubeletScheme, type KubeletAccessConfig } from './kubelet-access-config.js';
import { KubeletClient } from './kubelet-client.js';
import { NodeScraper, type ScrapeNode } from './node-scraper.js';
import { leaseDecodePool } from './decode-pool/lease.js';
import type { DecodePool } from './decode-pool/pool.js';
import type { DecoderRef } from './decode-pool/protocol.js';
import type { NodeTarget } from '../component/node-target.js';
import { shardOf, type ShardCoverage } from '../model/shard.js';
import { ShardMembership } from './shard-membership.js';
import type { ShardingConfig } from './sharding-config.js';

/** The keys every kubelet source shares: where nodes come from, how to reach them, and the scrape limits. */
export interface KubeletSourceSettings {
  /** As written; undefined follows from discovery (see kubeletScheme). */
  readonly scheme?: KubeletAccessConfig['scheme'] | undefined;
  readonly via: KubeletAccessConfig['via'];
  readonly tls?: KubeletAccessConfig['tls'] | undefined;
  readonly auth?: KubeletAccessConfig['auth'] | undefined;
  readonly allow_insecure_token?: boolean | undefined;
  readonly discovery: DiscoveryConfig;
  /** Port for nodes whose discovery names none. */
  readonly port: number;
  readonly timeout: number;
  readonly concurrency: number;
  readonly max_response_bytes: number;
  readonly max_sets_per_node: number;
  /** Scrape only this replica's share of the nodes (see ShardMembership). */
  readonly sharding?: ShardingConfig | undefined;
}

/**
 * The life of a kubelet source: start discovery, build the client once the access (TLS, token, proxy) is
 * known, scrape every node each tick with `scrapeWith(client, pool)`, and stop both when unsubscribed. Each
 * source only says how to fetch and decode one node. A source that names its decoder (`offThread`) gets a pool
 * of decode threads when the pipeline has `workers:`, and decodes with `pool.decode` when it is given one.
 *
 * @example
 * return kubeletSource(config, ctx, (client) => async (node, _tick, signal, report) =>
 *   decodeSummaryBytes(await client.getBytes(node, config.path, signal), nodeInfo(node), {
 *     report,
 *     maxSets: config.max_sets_per_node,
 *   }));
 * // sources/kubelet-summary/summary-source.ts shows the same with a decode pool.
 */
export function kubeletSource(
  settings: KubeletSourceSettings,
  ctx: SourceContext,
  scrapeWith: (client: KubeletClient, pool: DecodePool | undefined) => ScrapeNode,
  offThread?: DecoderRef,
): Observable<PipelineEvent> {
  return defer(() => {
    const discovery = createDiscovery(settings.discovery, {
      defaultPort: settings.port,
      provideMetadata: ctx.provideMetadata,
      clock: ctx.clock,
      logger: ctx.logger,
      telemetry: ctx.telemetry,
      keep: ctx.keep,
      ...(ctx.startSimulatedCluster === undefined
        ? {}
        : { startSimulatedCluster: ctx.startSimulatedCluster }),
    });
    const workers = ctx.workers ?? 0;
    const lease = offThread !== undefined && workers > 0 ? leaseDecodePool(workers, offThread) : undefined;
    const pool = lease?.pool;
    // Joining the group runs beside discovery: until it has an assignment, the replica scrapes no node.
    const membership =
      settings.sharding === undefined ? undefined : new ShardMembership(settings.sharding, ctx);
    membership?.start();
    // The decode threads load while discovery starts: the first cycle is not slowed by them.
    return from(Promise.all([discovery.start(), pool?.ready()])).pipe(
      mergeMap(() => {
        const access = kubeletAccess(
          {
            scheme: kubeletScheme(settings),
            via: settings.via,
            ...(settings.tls === undefined ? {} : { tls: settings.tls }),
            ...(settings.auth === undefined ? {} : { auth: settings.auth }),
            allow_insecure_token: settings.allow_insecure_token === true,
          },
          discovery,
          ctx,
        );
        const client = new KubeletClient(
          { timeoutMs: settings.timeout, maxResponseBytes: settings.max_response_bytes, ...access },
          ctx.clock,
        );
        const scraper = new NodeScraper(ctx, settings.concurrency, scrapeWith(client, pool));
        return ctx.ticks.pipe(
          mergeMap((tick) => {
            if (membership === undefined) return scraper.cycle(tick, discovery.nodes());
            const shard = membership.coverage();
            return scraper.cycle(tick, nodesOf(shard, discovery.nodes()), shard);
          }),
          finalize(() => void client.close()),
        );
      }),
      finalize(() => {
        void discovery.stop();
        lease?.release();
        void membership?.stop();
      }),
    );
  });
}

/** The nodes that hash to the partitions this replica holds. */
function nodesOf(shard: ShardCoverage, nodes: readonly NodeTarget[]): NodeTarget[] {
  const held = new Set(shard.partitions);
  return nodes.filter((node) => held.has(shardOf(node.name, shard.of)));
}

/** The node's names as decoders want them: Heapster's nodename, hostname and host_id labels. */
export function nodeInfo(node: NodeTarget): { name: string; hostname?: string; hostId?: string } {
  return {
    name: node.name,
    ...(node.hostname === undefined ? {} : { hostname: node.hostname }),
    ...(node.hostId === undefined ? {} : { hostId: node.hostId }),
  };
}
