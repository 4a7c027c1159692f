import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
import { moduleBeside } from '../../src/kube/decode-pool/entry.js';
import type { DecoderRef } from '../../src/kube/decode-pool/protocol.js';
import type { PipelineEvent } from '../../src/model/types.js';
import type { SummarySourceConfig } from './config.js';
import { decodeSummaryBytes } from './decode-bytes.js';

/** The same decoder, for decode threads (the pipeline's `workers:`). */
const OFF_THREAD: DecoderRef = {
  module: moduleBeside(import.meta.url, './decode-bytes'),
  name: 'decodeSummaryBytes',
};

/**
 * Scrapes `GET /stats/summary` of every known node once per tick. Each node's batch is emitted as soon as it
 * is decoded, so a slow kubelet delays only itself; the cycle's CycleEnd follows the last answer or timeout.
 * The body is decoded from its bytes (decode-bytes.ts): no UTF-8 text, no full JSON.parse tree; with
 * `workers:`, on a decode thread.
 */
export function summarySource(config: SummarySourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  return kubeletSource(
    config,
    ctx,
    (client, pool) => async (node, _tick, signal, report) => {
      const bytes = await client.getBytes(node, config.path, signal);
      const limits = { maxSets: config.max_sets_per_node, what: config.path };
      if (pool !== undefined) return pool.decode(nodeInfo(node), bytes, report, limits);
      return decodeSummaryBytes(bytes, nodeInfo(node), { report, maxSets: limits.maxSets }, config.path);
    },
    OFF_THREAD,
  );
}
