import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import type { SourceContext } from '../../src/engine/component.js';
import { createDiscovery } from '../../src/kube/discovery.js';
import { KubeletClient } from '../../src/kube/kubelet-client.js';
import { NodeScraper, parseJsonBody } from '../../src/kube/node-scraper.js';
import type { PipelineEvent } from '../../src/model/types.js';
import type { SummarySourceConfig } from './config.js';
import { decodeSummary } from './decode.js';

/**
 * Scrapes `GET /stats/summary` of every known node once per tick. Each node's batch is emitted as soon as it
 * is decoded, so a slow kubelet delays only itself; the cycle's CycleEnd follows the last answer or timeout.
 */
export function summarySource(config: SummarySourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  return defer(() => {
    const discovery = createDiscovery(config.discovery, {
      defaultPort: config.port,
      provideMetadata: ctx.provideMetadata,
    });
    const client = new KubeletClient(
      { scheme: config.scheme, timeoutMs: config.timeout, maxResponseBytes: config.max_response_bytes },
      ctx.clock,
    );
    const scraper = new NodeScraper(ctx, config.concurrency, async (node, _tick, signal) => {
      const text = await client.get(node, config.path, signal);
      return decodeSummary(parseJsonBody(text, config.path), {
        name: node.name,
        ...(node.hostname === undefined ? {} : { hostname: node.hostname }),
        ...(node.hostId === undefined ? {} : { hostId: node.hostId }),
      });
    });
    return from(discovery.start()).pipe(
      mergeMap(() => ctx.ticks),
      mergeMap((tick) => scraper.cycle(tick, discovery.nodes())),
      finalize(() => {
        void client.close();
        void discovery.stop();
      }),
    );
  });
}
