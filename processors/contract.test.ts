import { describe, expect, it } from 'vitest';
import topPods from '../examples/top-pods/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import type { ProcessorDefinition } from '../src/component/component.js';
import type { PipelineEvent } from '../src/model/types.js';
import {
  checkProcessorContract,
  cycleEnd,
  runProcessor,
  summaryBatch,
  testContext,
} from '../src/testing/index.js';
import { fixtureMetadata } from '../test/support/processors.js';

// Every built-in processor keeps the rules users' plugins are held to: labels and what was passed on never changed,
// state per subscription, completion when the input completes, nothing after unsubscribe.

const fixture = (path: string) => new URL(`../../shared/fixtures/kubelet/${path}`, import.meta.url);

// Two real nodes over two cycles: nri-1.34 (one capture, so its second batch repeats the sample) and
// otel-minikube, whose second scrape is 2 s later, so counters advance and rates exist. Fresh for each run: a
// processor owns the batches it is given.
const events = (): PipelineEvent[] => [
  summaryBatch(fixture('nri-1.34/stats-summary.json'), { node: 'node-1', cycle: 1 }),
  summaryBatch(fixture('otel-minikube/stats-summary.json'), { node: 'node-2', cycle: 1 }),
  cycleEnd(1, 2),
  summaryBatch(fixture('nri-1.34/stats-summary.json'), { node: 'node-1', cycle: 2 }),
  summaryBatch(fixture('otel-minikube/stats-summary-second-scrape.json'), { node: 'node-2', cycle: 2 }),
  cycleEnd(2, 2),
];

const metadata = fixtureMetadata('nri-1.34', 'node-1');
const makeCtx = () => testContext({ id: 'test_processor', metadata });

/** Config for types that need some; the others run with their defaults. A new type failing to parse `{}` goes here. */
const CONFIGS: Readonly<Record<string, unknown>> = {
  filter: { exclude: { namespaces: ['kube-system'], metrics: ['network/*'] } },
  top_pods: { top: 2, metric: 'cpu/usage_rate' },
};

function underTest(def: ProcessorDefinition) {
  return { processor: def, config: CONFIGS[def.type] ?? {} };
}

// An example plugin is checked too, registered as a pipeline's `plugins:` registers it.
const registry = createBuiltinRegistry().with(topPods);
const types = registry.types('processor');

describe('processor contract of every built-in processor', () => {
  it('has processors to check', () => {
    expect(types).toContain('rate');
  });

  it.each(types)('%s keeps the contract on real batches', async (type) => {
    const def = registry.get('processor', type) as ProcessorDefinition;
    const { processor, config } = underTest(def);
    const report = await checkProcessorContract(processor, config, events(), makeCtx);
    expect(report.problems).toEqual([]);
    // Sanity: it was really given the batches (cycle marks always go on).
    const out = await runProcessor(processor, config, events(), makeCtx());
    expect(out.filter((e) => e.kind === 'cycle_end')).toHaveLength(2);
    expect(out.some((e) => e.kind === 'batch' && e.sets.length > 0)).toBe(true);
  });
});
