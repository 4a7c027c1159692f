import { describe, expect, it } from 'vitest';
import { staticMetadata } from '../../src/component/metadata.js';
import type { ClusterBatch } from '../../src/model/types.js';
import {
  batchesOf,
  containerSet,
  cycleEnd,
  nodeBatch,
  nodeSet,
  podSet,
  runProcessor,
  setByKey,
  testContext,
} from '../../src/testing/index.js';
import { namespaceEnricherConfig } from './config.js';
import namespaceEnricher from './index.js';
import { SetValues } from '../../src/model/set-values.js';

const metadata = staticMetadata({
  namespaces: [
    { name: 'ns1', uid: 'ns1-uid', labels: { team: 'payments', env: 'prod' } },
    { name: 'ns2', uid: 'ns2-uid', labels: {} },
  ],
});

function enricher(config: Record<string, unknown> = {}) {
  return namespaceEnricher.create(namespaceEnricherConfig.parse(config), testContext({ metadata }));
}

describe('namespace_enricher', () => {
  it('adds namespace_id (Heapster B3) to pod and container sets, not to node sets', async () => {
    const node = nodeSet('n1');
    const [out] = batchesOf(
      await runProcessor(enricher(), {}, [
        nodeBatch('n1', 1, [node, podSet('ns1', 'web', 'n1'), containerSet('ns2', 'db', 'pg', 'n1')]),
      ]),
    );
    expect(out?.sets[0]).toBe(node);
    expect(setByKey(out, 'namespace:ns1/pod:web').labels).toEqual({
      type: 'pod',
      namespace_name: 'ns1',
      pod_name: 'web',
      nodename: 'n1',
      namespace_id: 'ns1-uid',
    });
    expect(setByKey(out, 'namespace:ns2/pod:db/container:pg').labels.namespace_id).toBe('ns2-uid');
  });

  it('stores allow-listed namespace labels, renamed with new=old, without overriding the set’s own', async () => {
    const pod = podSet('ns1', 'web', 'n1', { labels: { team: 'from-pod' } });
    const [out] = batchesOf(
      await runProcessor(enricher({ store_labels: ['team', 'environment=env'] }), {}, [
        nodeBatch('n1', 1, [pod, containerSet('ns1', 'web', 'app', 'n1')]),
      ]),
    );
    expect(setByKey(out, 'namespace:ns1/pod:web').labels).toMatchObject({
      team: 'from-pod',
      environment: 'prod',
    });
    expect(setByKey(out, 'namespace:ns1/pod:web/container:app').labels).toMatchObject({
      team: 'payments',
      environment: 'prod',
      namespace_id: 'ns1-uid',
    });
    expect(setByKey(out, 'namespace:ns1/pod:web/container:app').labels.labels).toBeUndefined();
  });

  it('enriches ns sets of cluster batches, and passes unknown namespaces and marks on untouched', async () => {
    const cluster: ClusterBatch = {
      kind: 'batch',
      scope: 'cluster',
      cycle: 1,
      timestamp: 0,
      sets: [
        {
          type: 'ns',
          key: 'namespace:ns1',
          labels: { type: 'ns', namespace_name: 'ns1' },
          values: new SetValues(),
          labeled: [],
          scrapeTime: 0,
          startTime: 0,
        },
      ],
    };
    const unknown = nodeBatch('n1', 1, [podSet('other', 'x', 'n1')]);
    const mark = cycleEnd(1, 1);
    const out = await runProcessor(enricher(), {}, [unknown, cluster, mark]);
    expect(out[0]).toBe(unknown);
    expect(setByKey(out[1] as ClusterBatch, 'namespace:ns1').labels.namespace_id).toBe('ns1-uid');
    expect(out[2]).toBe(mark);
  });

  it('rejects unknown keys', () => {
    expect(namespaceEnricherConfig.safeParse({ labels: ['team'] }).success).toBe(false);
  });
});
