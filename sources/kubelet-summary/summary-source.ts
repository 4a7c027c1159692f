import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import type { PipelineEvent } from '../../src/model/types.js';
import type { SummarySourceConfig } from './config.js';
import { decodeSummary } from './decode.js';

/**
 * Scrapes `GET /stats/summary` of every known node once per tick. Each node's batch is emitted as soon as it
 * is decoded, so a slow kubelet delays only itself; the cycle's CycleEnd follows the last answer or timeout.
 */
export function summarySource(config: SummarySourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  return kubeletSource(config, ctx, (client) => async (node, _tick, signal, report) => {
    const text = await client.get(node, config.path, signal);
    return decodeSummary(parseJsonBody(text, config.path), nodeInfo(node), {
      report,
      maxSets: config.max_sets_per_node,
    });
  });
}
