import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
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
  const path = config.path ?? PROMETHEUS_ENDPOINTS[config.endpoint];
  return kubeletSource(config, ctx, (client) => async (node, _tick, signal, report) => {
    const text = await client.get(node, path, signal);
    // Samples without a timestamp are stamped with the time the answer arrived.
    const responseTime = ctx.clock.now();
    return decodePrometheusMetrics(text, nodeInfo(node), responseTime, path, config.system_containers, {
      report,
      maxSets: config.max_sets_per_node,
      maxSeries: config.max_series,
    });
  });
}
