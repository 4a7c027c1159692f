import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeContainerInfos } from '../sources/kubelet-cadvisor/decode.js';
import { decodePrometheusMetrics } from '../sources/kubelet-prometheus/decode.js';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import type { ProcessorDefinition } from '../src/component/component.js';
import type { MetricSet, PipelineEvent } from '../src/model/types.js';
import { cycleEnd, nodeBatch, runProcessor, testContext } from '../src/testing/index.js';
import { fixtureMetadata } from '../test/support/processors.js';

// Processors fill the sets they receive in place (docs/plugins.md, "The rules"). That is only safe if no `values`
// record or `labeled` list is reachable from two sets, or from one set in two cycles: these tests pin that for
// every source's decoder and for the sets the default processors make (pod sums, namespaces, cluster; stubs are
// pinned in pod-enricher.test.ts).

const shared = new URL('../../shared/fixtures/', import.meta.url);
const text = (path: string) => readFileSync(new URL(path, shared), 'utf8');

/** Values records and labeled lists that more than one set holds, by the keys of the sets holding them. */
function sharedObjects(sets: readonly MetricSet[]): string[] {
  const holders = new Map<object, string[]>();
  for (const set of sets) {
    for (const object of [set.values, set.labeled]) {
      const keys = holders.get(object) ?? [];
      keys.push(set.key);
      holders.set(object, keys);
    }
  }
  return [...holders.values()].filter((keys) => keys.length > 1).map((keys) => keys.join(' & '));
}

describe('every set has values and labeled objects of its own, in every scrape', () => {
  const twice = (decode: () => MetricSet[]) => {
    const sets = [...decode(), ...decode()];
    expect(sets.length).toBeGreaterThan(1);
    return sharedObjects(sets);
  };

  it('kubelet_summary', () => {
    const payload = text('kubelet/nri-1.34/stats-summary.json');
    expect(twice(() => decodeSummary(JSON.parse(payload), { name: 'n1' }))).toEqual([]);
  });

  it('kubelet_cadvisor', () => {
    // One container (the root) per fixture: this pins that two scrapes share nothing.
    const payload = text('cadvisor/seed-stats-container.json');
    expect(twice(() => decodeContainerInfos(JSON.parse(payload), { name: 'n1' }))).toEqual([]);
  });

  it('kubelet_prometheus', () => {
    const payload = text('prometheus/nri-1.27-metrics-cadvisor.prom');
    expect(twice(() => decodePrometheusMetrics(payload, { name: 'n1' }, 0))).toEqual([]);
  });

  it('the default processors, over two cycles: pod sums, namespace and cluster sets', async () => {
    const registry = createBuiltinRegistry();
    const ctx = testContext({ metadata: fixtureMetadata('nri-1.34', 'n1') });
    const payload = text('kubelet/nri-1.34/stats-summary.json');
    let events: PipelineEvent[] = [1, 2].flatMap((cycle) => [
      nodeBatch('n1', cycle, decodeSummary(JSON.parse(payload), { name: 'n1' })),
      cycleEnd(cycle, 1),
    ]);
    for (const type of ['rate', 'pod_enricher', 'namespace_enricher', 'aggregate', 'node_enricher']) {
      events = await runProcessor(registry.get('processor', type) as ProcessorDefinition, {}, events, ctx);
    }
    const sets = events.flatMap((e) => (e.kind === 'batch' ? e.sets : []));
    expect(new Set(sets.map((s) => s.type))).toEqual(
      new Set(['node', 'sys_container', 'pod', 'pod_container', 'ns', 'cluster']),
    );
    expect(sharedObjects(sets)).toEqual([]);
  });
});
