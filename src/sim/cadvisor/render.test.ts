import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricSet } from '../../model/types.js';
import { decodeContainerInfos } from '../../../sources/kubelet-cadvisor/decode.js';
import { decodePrometheusMetrics } from '../../../sources/kubelet-prometheus/decode.js';
import { decodeSummary } from '../../../sources/kubelet-summary/decode.js';
import { renderCadvisorV1, renderMetricsCadvisor, renderMetricsResource } from './render.js';

const KUBELET = new URL('../../../../shared/fixtures/kubelet/', import.meta.url);

function summaryOf(fixture: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${fixture}/stats-summary.json`, KUBELET), 'utf8')) as Record<
    string,
    unknown
  >;
}

function byKey(sets: readonly MetricSet[]): Map<string, MetricSet> {
  return new Map(sets.map((s) => [s.key, s]));
}

/** Same keys of the given types, and the same values of `metrics` on each (counters to the ns). */
function expectSame(
  actual: readonly MetricSet[],
  expected: readonly MetricSet[],
  types: readonly string[],
  metrics: readonly string[],
): number {
  const want = byKey(expected.filter((s) => types.includes(s.type)));
  const have = byKey(actual.filter((s) => types.includes(s.type)));
  expect([...have.keys()].sort()).toEqual([...want.keys()].sort());
  let compared = 0;
  for (const [key, set] of want) {
    for (const metric of metrics) {
      const value = set.values.get(metric);
      if (value === undefined) continue;
      expect(have.get(key)?.values.get(metric), `${key} ${metric}`).toBe(value);
      compared++;
    }
  }
  return compared;
}

describe.each(['nri-1.28', 'otel-minikube'])(
  'the simulator renders %s for every kubelet source',
  (fixture) => {
    const summary = summaryOf(fixture);
    // The summary names its node; the other endpoints do not, so the source takes the name from discovery.
    const NODE = { name: (summary['node'] as { nodeName: string }).nodeName };
    const expected = decodeSummary(summary, NODE);

    it('cAdvisor v1 (kubelet POST /stats/container/ and /api/v1.3/subcontainers/) decodes to the same sets', () => {
      const rendered = renderCadvisorV1(summary);
      for (const payload of [rendered, Object.values(rendered)]) {
        const sets = decodeContainerInfos(JSON.parse(JSON.stringify(payload)), NODE, 'last', 'summary');
        const compared = expectSame(
          sets,
          expected,
          ['node', 'pod', 'pod_container'],
          [
            'cpu/usage',
            'memory/usage',
            'memory/working_set',
            'memory/rss',
            'memory/page_faults',
            'network/rx',
            'network/tx',
          ],
        );
        expect(compared).toBeGreaterThan(20);
      }
    });

    it('/metrics/cadvisor decodes to the same sets', () => {
      const sets = decodePrometheusMetrics(renderMetricsCadvisor(summary), NODE, 0);
      expect(
        expectSame(
          sets,
          expected,
          ['node', 'pod', 'pod_container'],
          ['cpu/usage', 'memory/working_set', 'network/rx'],
        ),
      ).toBeGreaterThan(20);
      const system = (all: readonly MetricSet[]) =>
        all
          .filter((s) => s.type === 'sys_container' && !s.key.endsWith('/container:system'))
          .map((s) => s.key)
          .sort();
      expect(system(sets)).toEqual(system(expected));
    });

    it('/metrics/resource decodes to the same sets', () => {
      const sets = decodePrometheusMetrics(renderMetricsResource(summary), NODE, 0);
      expect(
        expectSame(sets, expected, ['node', 'pod', 'pod_container'], ['cpu/usage', 'memory/working_set']),
      ).toBeGreaterThan(20);
    });
  },
);
