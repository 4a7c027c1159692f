import { pipe } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { staticMetadata, type NodeMeta } from '../../src/component/metadata.js';
import aggregate from '../aggregate/index.js';
import { aggregateConfig } from '../aggregate/config.js';
import podEnricher from '../pod-enricher/index.js';
import { podEnricherConfig } from '../pod-enricher/config.js';
import {
  batchesOf,
  containerSet,
  cycleEnd,
  nodeBatch,
  nodeSet,
  runProcessor,
  setByKey,
  testContext,
} from '../../src/testing/index.js';
import { fixtureMetadata, fixtureText, goldenPoints } from '../../test/support/processors.js';
import { nodeEnricherConfig } from './config.js';
import nodeEnricher from './index.js';

const Gi = 1024 ** 3;
const N1: NodeMeta = {
  name: 'n1',
  labels: { zone: 'a' },
  capacity: { cpu: 4000, memory: 8 * Gi, 'ephemeral-storage': 100 * Gi },
  allocatable: { cpu: 2000, memory: 4 * Gi, 'ephemeral-storage': 50 * Gi },
};

function enricher(nodes: NodeMeta[], config: Record<string, unknown> = {}) {
  return nodeEnricher.create(
    nodeEnricherConfig.parse(config),
    testContext({ metadata: staticMetadata({ nodes }) }),
  );
}

describe('node_enricher (Heapster B3)', () => {
  it('adds capacity, allocatable, utilization, reservation and node labels', async () => {
    const node = nodeSet('n1', {
      values: {
        'cpu/usage_rate': 1500,
        'cpu/request': 300,
        'memory/usage': Gi,
        'memory/request': 134217728,
        'ephemeral_storage/usage': 10 * Gi,
        'ephemeral_storage/request': 0,
      },
    });
    const [out] = batchesOf(
      await runProcessor(enricher([N1], { store_labels: ['z=zone'] }), {}, [nodeBatch('n1', 1, [node])]),
    );
    const set = setByKey(out, 'node:n1');
    expect(set.values).toEqual({
      ...node.values.toJSON(),
      'cpu/node_capacity': 4000,
      'cpu/node_allocatable': 2000,
      'cpu/node_utilization': 0.75,
      'cpu/node_reservation': 0.15,
      'memory/node_capacity': 8589934592,
      'memory/node_allocatable': 4294967296,
      'memory/node_utilization': 0.25,
      'memory/node_reservation': 0.03125,
      'ephemeral_storage/node_capacity': 107374182400,
      'ephemeral_storage/node_allocatable': 53687091200,
      'ephemeral_storage/node_utilization': 0.2,
      'ephemeral_storage/node_reservation': 0,
    });
    expect(set.labels).toMatchObject({ labels: 'zone:a', z: 'a', nodename: 'n1' });
  });

  it('without usage or requests gives no utilization or reservation; without ephemeral status no ephemeral metrics', async () => {
    const bare: NodeMeta = { name: 'n1', labels: {}, capacity: { cpu: 1000 }, allocatable: { cpu: 1000 } };
    const [out] = batchesOf(await runProcessor(enricher([bare]), {}, [nodeBatch('n1', 1, [nodeSet('n1')])]));
    expect(setByKey(out, 'node:n1').values).toEqual({
      'cpu/node_capacity': 1000,
      'cpu/node_allocatable': 1000,
      'memory/node_capacity': 0,
      'memory/node_allocatable': 0,
    });
    expect(setByKey(out, 'node:n1').labels.labels).toBeUndefined();
  });

  it('falls back to the containers’ requests when no aggregate wrote the node’s', async () => {
    const sets = [
      nodeSet('n1'),
      containerSet('ns', 'p', 'a', 'n1', { values: { 'cpu/request': 100 } }),
      containerSet('ns', 'q', 'b', 'n1', { values: { 'cpu/request': 300 } }),
    ];
    const [out] = batchesOf(await runProcessor(enricher([N1]), {}, [nodeBatch('n1', 1, sets)]));
    expect(setByKey(out, 'node:n1').values.get('cpu/node_reservation')).toBe(0.2);
    expect(setByKey(out, 'node:n1').values.get('memory/node_reservation')).toBeUndefined();
  });

  it('passes unknown nodes, other sets and marks on untouched', async () => {
    const batch = nodeBatch('n9', 1, [nodeSet('n9'), containerSet('ns', 'p', 'a', 'n9')]);
    const mark = cycleEnd(1, 1);
    const out = await runProcessor(enricher([N1]), {}, [batch, mark]);
    expect(out[0]).toBe(batch);
    expect(out[1]).toBe(mark);
  });

  it('rejects unknown keys', () => {
    expect(nodeEnricherConfig.safeParse({ label_seperator: ';' }).success).toBe(false);
  });
});

describe('pod_enricher + aggregate + node_enricher on a real payload (nri-1.34) against Heapster’s output', () => {
  it('gives the node metrics and labels Heapster gave, except cpu utilization without a rate', async () => {
    const node = 'datagen-1-34';
    const sets = decodeSummary(JSON.parse(fixtureText('kubelet/nri-1.34/stats-summary.json')), {
      name: node,
    });
    const ctx = testContext({ metadata: fixtureMetadata('nri-1.34', node) });
    const chain = pipe(
      podEnricher.create(podEnricherConfig.parse({}), ctx),
      aggregate.create(aggregateConfig.parse({}), ctx),
      nodeEnricher.create(nodeEnricherConfig.parse({}), ctx),
    );
    const [out] = batchesOf(await runProcessor(chain, {}, [nodeBatch(node, 1, sets)]));
    const set = setByKey(out, `node:${node}`);
    const golden = goldenPoints('nri-1.34').filter(
      (p) => p.tags.type === 'node' && p.measurement.includes('/node_'),
    );
    expect(golden).toHaveLength(12);
    for (const p of golden) {
      if (p.measurement === 'cpu/node_utilization') {
        // Heapster reported 0.0 for a node without a usage rate; heapstream reports nothing.
        expect(set.values.get(p.measurement)).toBeUndefined();
        continue;
      }
      expect([p.measurement, set.values.get(p.measurement)]).toEqual([p.measurement, p.value]);
      expect(set.labels.labels).toBe(p.tags.labels);
    }
  });
});
