import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
import type { PipelineEvent } from '../../src/model/types.js';
import { PROMETHEUS_ENDPOINTS, type PrometheusSourceConfig } from './config.js';
import { decodePrometheusMetrics } from './decode.js';
import type { PrometheusDecodeExtra } from './decode-bytes.js';
import { moduleBeside } from '../../src/kube/decode-pool/entry.js';
import type { DecoderRef } from '../../src/kube/decode-pool/protocol.js';

/** The same decoding on a decode thread (the pipeline's `workers:`), from the response's bytes. */
const OFF_THREAD: DecoderRef = {
  module: moduleBeside(import.meta.url, './decode-bytes'),
  name: 'decodePrometheusBytes',
};

/**
 * Scrapes every known node's kubelet `/metrics/resource` or `/metrics/cadvisor` once per tick and maps the
 * Prometheus text to Heapster's metric sets; each node's batch is emitted as soon as it is decoded. With
 * `workers:`, the text is read and decoded on a decode thread.
 */
export function prometheusSource(
  config: PrometheusSourceConfig,
  ctx: SourceContext,
): Observable<PipelineEvent> {
  const path = config.path ?? PROMETHEUS_ENDPOINTS[config.endpoint];
  const limits = { maxSets: config.max_sets_per_node, maxSeries: config.max_series, what: path };
  return kubeletSource(
    config,
    ctx,
    (client, pool) => async (node, _tick, signal, report) => {
      if (pool !== undefined) {
        const bytes = await client.getBytes(node, path, signal);
        const extra: PrometheusDecodeExtra = {
          responseTime: ctx.clock.now(),
          naming: config.system_containers,
        };
        return pool.decode(nodeInfo(node), bytes, report, { ...limits, extra });
      }
      const text = await client.get(node, path, signal);
      // Samples without a timestamp are stamped with the time the answer arrived.
      const responseTime = ctx.clock.now();
      return decodePrometheusMetrics(text, nodeInfo(node), responseTime, path, config.system_containers, {
        report,
        maxSets: limits.maxSets,
        maxSeries: limits.maxSeries,
      });
    },
    OFF_THREAD,
  );
}
