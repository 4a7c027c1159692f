import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import {
  batchesOf,
  containerSet,
  cycleEnd,
  nodeBatch,
  nodeSet,
  podSet,
  runProcessor,
  testContext,
} from '../../src/testing/index.js';
import { fixtureText } from '../../test/support/processors.js';
import { filterConfig } from './config.js';
import filter from './index.js';

function filterOf(config: unknown) {
  return filter.create(filterConfig.parse(config), testContext());
}

const fs = { name: 'filesystem/usage', labels: { resource_id: '/' }, value: 1 };
/** Sets of their own for each run: the filter owns what it is given and filters it in place. */
const freshSets = () => [
  nodeSet('n1', { values: { 'cpu/usage': 1, 'memory/usage': 2 } }),
  podSet('kube-system', 'dns', 'n1', { values: { 'cpu/usage_rate': 3 }, labels: { app: 'dns' } }),
  podSet('prod', 'web', 'n1', { values: { 'cpu/usage_rate': 4, 'memory/usage': 5 }, labels: { app: 'web' } }),
  containerSet('prod', 'web', 'app', 'n1', { values: { 'cpu/usage': 6, 'memory/rss': 7 }, labeled: [fs] }),
];

async function keysAfter(config: unknown) {
  const [out] = batchesOf(await runProcessor(filterOf(config), {}, [nodeBatch('n1', 1, freshSets())]));
  return out?.sets.map((s) => s.key) ?? [];
}

describe('filter', () => {
  it('includes by type (with the namespace alias) and namespace, all lists having to match', async () => {
    expect(await keysAfter({ include: { types: ['pod'] } })).toEqual([
      'namespace:kube-system/pod:dns',
      'namespace:prod/pod:web',
    ]);
    expect(await keysAfter({ include: { types: ['pod', 'namespace'], namespaces: ['prod'] } })).toEqual([
      'namespace:prod/pod:web',
    ]);
  });

  it('excludes sets matching any list: namespace or label', async () => {
    expect(await keysAfter({ exclude: { namespaces: ['kube-system'], labels: ['app=web'] } })).toEqual([
      'node:n1',
      'namespace:prod/pod:web/container:app',
    ]);
  });

  it('keeps only included metrics, exact or by prefix, dropping sets left empty', async () => {
    const [out] = batchesOf(
      await runProcessor(filterOf({ include: { metrics: ['cpu/*', 'filesystem/usage'] } }), {}, [
        nodeBatch('n1', 1, freshSets()),
      ]),
    );
    expect(out?.sets.map((s) => [s.key, s.values.names(), s.labeled.length])).toEqual([
      ['node:n1', ['cpu/usage'], 0],
      ['namespace:kube-system/pod:dns', ['cpu/usage_rate'], 0],
      ['namespace:prod/pod:web', ['cpu/usage_rate'], 0],
      ['namespace:prod/pod:web/container:app', ['cpu/usage'], 1],
    ]);
    const [onlyRss] = batchesOf(
      await runProcessor(filterOf({ include: { metrics: ['memory/rss'] } }), {}, [
        nodeBatch('n1', 1, freshSets()),
      ]),
    );
    expect(onlyRss?.sets.map((s) => s.key)).toEqual(['namespace:prod/pod:web/container:app']);
  });

  it('excludes metrics and labeled metrics by prefix, keeping untouched sets as the same objects', async () => {
    const sets = freshSets();
    const [out] = batchesOf(
      await runProcessor(filterOf({ exclude: { metrics: ['filesystem/*', 'memory/rss'] } }), {}, [
        nodeBatch('n1', 1, sets),
      ]),
    );
    expect(out?.sets.slice(0, 3)).toEqual(freshSets().slice(0, 3));
    expect(out?.sets[0]).toBe(sets[0]);
    expect(out?.sets[3]?.values).toEqual({ 'cpu/usage': 6 });
    expect(out?.sets[3]?.labeled).toEqual([]);
  });

  it('passes a batch where nothing is filtered on as the same object, and marks untouched', async () => {
    const batch = nodeBatch('n1', 1, freshSets());
    const mark = cycleEnd(1, 1);
    const out = await runProcessor(filterOf({ exclude: { types: ['cluster'] } }), {}, [batch, mark]);
    expect(out[0]).toBe(batch);
    expect(out[1]).toBe(mark);
  });

  it('filters a real payload (nri-1.34): no kube-system set and no filesystem metric is left', async () => {
    const node = 'datagen-1-34';
    const decoded = decodeSummary(JSON.parse(fixtureText('kubelet/nri-1.34/stats-summary.json')), {
      name: node,
    });
    const [out] = batchesOf(
      await runProcessor(
        filterOf({ exclude: { namespaces: ['kube-system'], metrics: ['filesystem/*'] } }),
        {},
        [nodeBatch(node, 1, decoded)],
      ),
    );
    const left = out?.sets ?? [];
    expect(decoded.some((s) => s.labels.namespace_name === 'kube-system')).toBe(true);
    expect(left.some((s) => s.labels.namespace_name === 'kube-system')).toBe(false);
    expect(left.some((s) => s.labels.namespace_name === 'scraper')).toBe(true);
    expect(left.flatMap((s) => s.labeled).filter((l) => l.name.startsWith('filesystem/'))).toEqual([]);
    expect(left.find((s) => s.type === 'node')?.values.get('cpu/usage')).toBeGreaterThan(0);
  });

  it('rejects unknown keys, unknown types, bad labels and an empty filter', () => {
    expect(filterConfig.safeParse({ include: { type: ['pod'] } }).success).toBe(false);
    expect(filterConfig.safeParse({ include: { types: ['pods'] } }).success).toBe(false);
    expect(filterConfig.safeParse({ exclude: { labels: ['app'] } }).success).toBe(false);
    expect(filterConfig.safeParse({}).success).toBe(false);
  });
});
