import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { cycleEnd, nodeBatch } from '../testing/fixtures.js';
import { nodeSet, podSet } from '../testing/sets.js';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import { withClusterName } from './cluster-name.js';

function run(events: PipelineEvent[]): Promise<PipelineEvent[]> {
  return lastValueFrom(from(events).pipe(withClusterName('prod'), toArray()));
}

describe('withClusterName', () => {
  it('names every batch, mark and set, sharing one labelled copy per labels object', async () => {
    const node = nodeSet('n1');
    const pod = podSet('ns1', 'p', 'n1');
    const again = { ...pod, key: 'other' };
    const [batch, mark] = await run([nodeBatch('n1', 1, [node, pod, again]), cycleEnd(1, 1)]);
    const sets = (batch as MetricBatch).sets;
    expect((batch as MetricBatch).cluster).toBe('prod');
    expect(mark).toMatchObject({ kind: 'cycle_end', cluster: 'prod' });
    expect(sets.map((s) => s.labels.cluster_name)).toEqual(['prod', 'prod', 'prod']);
    expect(sets[0]?.labels).toEqual({ ...node.labels, cluster_name: 'prod' });
    expect(sets[1]?.labels).toBe(sets[2]?.labels);
    // The sets received are not changed: labelled copies replace them.
    expect(node.labels.cluster_name).toBeUndefined();
  });

  it('keeps the cluster of what already has one (a second tier reading several clusters)', async () => {
    const pod = podSet('ns1', 'p', 'n1', { labels: { cluster_name: 'east' } });
    const batch = { ...nodeBatch('n1', 1, [pod]), cluster: 'east' };
    const mark = { ...cycleEnd(1, 1), cluster: 'east' };
    const out = await run([batch, mark]);
    expect(out[0]).toBe(batch);
    expect(out[1]).toBe(mark);
  });
});
