import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import type { SourceContext } from '../../src/engine/component.js';
import { createDiscovery } from '../../src/kube/discovery.js';
import { kubeletAccess } from '../../src/kube/kubelet-access.js';
import { KubeletClient } from '../../src/kube/kubelet-client.js';
import { NodeScraper } from '../../src/kube/node-scraper.js';
import type { PipelineEvent } from '../../src/model/types.js';
import { PROMETHEUS_ENDPOINTS, type PrometheusSourceConfig } from './config.js';
import { decodePrometheusMetrics } from './decode.js';

/**
 * Scrapes every known node's kubelet `/metrics/resource` or `/metrics/cadvisor` once per tick and maps the
 * Prometheus text to Heapster's metric sets; each node's batch is emitted as soon as it is decoded.
 */
export function prometheusSource(
  config: PrometheusSourceConfig,
  ctx: SourceContext,
): Observable<PipelineEvent> {
  return defer(() => {
    const path = config.path ?? PROMETHEUS_ENDPOINTS[config.endpoint];
    const discovery = createDiscovery(config.discovery, {
      defaultPort: config.port,
      provideMetadata: ctx.provideMetadata,
    });
    return from(discovery.start()).pipe(
      mergeMap(() => {
        // The access (TLS, token, proxy) is known once discovery knows the cluster.
        const access = kubeletAccess(
          {
            scheme: config.scheme,
            via: config.via,
            ...(config.tls === undefined ? {} : { tls: config.tls }),
            ...(config.auth === undefined ? {} : { auth: config.auth }),
          },
          discovery,
          ctx,
        );
        const client = new KubeletClient(
          { timeoutMs: config.timeout, maxResponseBytes: config.max_response_bytes, ...access },
          ctx.clock,
        );
        const scraper = new NodeScraper(ctx, config.concurrency, async (node, _tick, signal) => {
          const text = await client.get(node, path, signal);
          // Samples without a timestamp are stamped with the time the answer arrived.
          const responseTime = ctx.clock.now();
          return decodePrometheusMetrics(
            text,
            {
              name: node.name,
              ...(node.hostname === undefined ? {} : { hostname: node.hostname }),
              ...(node.hostId === undefined ? {} : { hostId: node.hostId }),
            },
            responseTime,
            path,
            config.system_containers,
          );
        });
        return ctx.ticks.pipe(
          mergeMap((tick) => scraper.cycle(tick, discovery.nodes())),
          finalize(() => void client.close()),
        );
      }),
      finalize(() => void discovery.stop()),
    );
  });
}
