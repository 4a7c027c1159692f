import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
import { LabelInterner } from '../../src/kube/label-interner.js';
import type { PipelineEvent } from '../../src/model/types.js';
import type { SummarySourceConfig } from './config.js';
import { decodeSummaryBytes } from './decode-bytes.js';

/**
 * Scrapes `GET /stats/summary` of every known node once per tick. Each node's batch is emitted as soon as it
 * is decoded, so a slow kubelet delays only itself; the cycle's CycleEnd follows the last answer or timeout.
 * The body is decoded from its bytes (decode-bytes.ts): no UTF-8 text, no full JSON.parse tree. A set's labels
 * are the same frozen object from cycle to cycle while unchanged (LabelInterner).
 */
export function summarySource(config: SummarySourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  return kubeletSource(config, ctx, (client) => {
    const labels = new LabelInterner();
    return async (node, tick, signal, report) => {
      const bytes = await client.getBytes(node, config.path, signal);
      const sets = decodeSummaryBytes(
        bytes,
        nodeInfo(node),
        { report, maxSets: config.max_sets_per_node },
        config.path,
      );
      return labels.intern(node.name, tick.cycle, sets);
    };
  });
}
