import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadPipelineConfigText, parsePipelineConfig, PreloadedPlugins } from '../../src/config/index.js';
import { defineProcessor } from '../../src/component/component.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import { mapBatches } from '../../src/component/operators.js';
import type { Registry } from '../../src/component/registry.js';
import { ConfigError } from '../../src/component/errors.js';
import type { MetricBatch, PipelineEvent } from '../../src/model/types.js';
import {
  checkProcessorContract,
  cycleEnd,
  runProcessor,
  summaryBatch,
  testContext,
} from '../../src/testing/index.js';
import { customConfigFor, type ResolvedCustomConfig } from './custom.js';
import custom from './index.js';

// The pipeline file the YAML texts below stand for: module paths resolve against its directory.
const pipelineFile = fileURLToPath(new URL('./testdata/pipeline.yaml', import.meta.url));
const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const events: PipelineEvent[] = [
  summaryBatch(fixture, { node: 'node-1', cycle: 1 }),
  summaryBatch(fixture, { node: 'node-2', cycle: 1 }),
  cycleEnd(1, 2),
  summaryBatch(fixture, { node: 'node-1', cycle: 2 }),
  summaryBatch(fixture, { node: 'node-2', cycle: 2 }),
  cycleEnd(2, 2),
  summaryBatch(fixture, { node: 'node-1', cycle: 3 }),
  cycleEnd(3, 1),
];
const fixtureSets = (events[0] as MetricBatch).sets;

function registry(): Registry {
  const r = createBuiltinRegistry();
  // The lead registers `custom` among the built-ins; until then the tests add it.
  return r.get('processor', 'custom') === undefined ? r.register(custom) : r;
}

const yaml = (processors: string) => `resolution: 15s
source:
  type: kubelet_summary
  discovery:
    static: [{ name: node-1, address: 127.0.0.1 }]
processors:
${processors}
sinks:
  out:
    type: stdout
`;

async function problemsOf(text: string): Promise<string[]> {
  try {
    await loadPipelineConfigText(text, pipelineFile, registry(), {});
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** A custom entry's config as the loader resolved it (the entry type keeps configs untyped). */
function resolvedOf(config: Record<string, unknown> | undefined): ResolvedCustomConfig {
  expect(config?.plugin).toBeDefined();
  return config as unknown as ResolvedCustomConfig;
}

function batches(out: readonly PipelineEvent[]): MetricBatch[] {
  return out.filter((e): e is MetricBatch => e.kind === 'batch');
}

describe('custom processor: loading a TypeScript plugin named in pipeline.yaml', () => {
  const text = yaml(`  - type: custom
    module: ./keep-namespace.ts
    config:
      namespace: scraper
      keep_node_sets: false`);

  it('imports the module relative to the pipeline file, validates its config and runs it', async () => {
    const config = await loadPipelineConfigText(text, pipelineFile, registry(), {});
    const entry = config.processors[0];
    expect(entry?.type).toBe('custom');
    expect(entry?.path).toBe('processors[0]');
    const resolved = resolvedOf(entry?.config);
    expect(resolved.plugin.type).toBe('keep_namespace');
    expect(resolved.config).toEqual({ namespace: 'scraper', keep_node_sets: false });
    expect(resolved.on_error).toBe('pass');
    expect(resolved.export).toBe('default');

    const op = custom.create(resolved, testContext({ id: 'custom' }));
    const out = await runProcessor(op, {}, events);
    expect(out.map((e) => e.kind)).toEqual(events.map((e) => e.kind));
    const first = batches(out)[0] as MetricBatch;
    const scraperSets = fixtureSets.filter((s) => s.labels.namespace_name === 'scraper');
    // nri-1.34's node runs 9 pods of namespace scraper, one container each: 18 sets.
    expect(scraperSets.length).toBe(18);
    expect(first.sets).toEqual(scraperSets);
    expect(first.sets.every((s) => s.labels.namespace_name === 'scraper')).toBe(true);
  });

  it('reports the plugin’s config mistakes at their line:col, with every other problem', async () => {
    const bad = yaml(`  - type: custom
    module: ./keep-namespace.ts
    config:
      namespce: scraper
      keep_node_sets: maybe
  - type: rate
    max_gapp: 1m`);
    expect(await problemsOf(bad)).toEqual([
      `${pipelineFile}:10:7 processors[0].config.namespce: unknown key (did you mean "namespace"?)`,
      `${pipelineFile}:11:23 processors[0].config.keep_node_sets: expected true or false, got the string "maybe"`,
      `${pipelineFile}:13:5 processors[1].max_gapp: unknown key (did you mean "max_gap"?)`,
    ]);
  });

  it('reports a missing required plugin key at the entry', async () => {
    const missing = yaml(`  - type: custom
    module: ./keep-namespace.ts`);
    expect(await problemsOf(missing)).toEqual([
      `${pipelineFile}:7:5 processors[0].config.namespace: missing required key`,
    ]);
  });

  it('reports its own keys like any processor’s', async () => {
    const bad = yaml(`  - type: custom
    module: ./keep-namespace.ts
    on_eror: drop
    on_error: ignore`);
    expect(await problemsOf(bad)).toEqual([
      `${pipelineFile}:9:5 processors[0].on_eror: unknown key (did you mean "on_error"?)`,
      `${pipelineFile}:10:15 processors[0].on_error: expected one of "pass", "drop", got the string "ignore"`,
    ]);
  });
});

describe('custom processor: modules that cannot be used are config problems at module:', () => {
  it('a missing file', async () => {
    const problems = await problemsOf(yaml(`  - type: custom\n    module: ./no-such-plugin.ts`));
    const missing = fileURLToPath(new URL('./testdata/no-such-plugin.ts', import.meta.url));
    expect(problems).toEqual([
      `${pipelineFile}:8:13 processors[0].module: cannot find module "./no-such-plugin.ts": no file at ${missing}`,
    ]);
  });

  it('a module whose own import fails', async () => {
    const problems = await problemsOf(yaml(`  - type: custom\n    module: ./broken-import.ts`));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /:8:13 processors\[0\]\.module: cannot load module "\.\/broken-import\.ts": .*does-not-exist/,
    );
  });

  it('a package that is not installed', async () => {
    const problems = await problemsOf(yaml(`  - type: custom\n    module: heapstream-plugin-nonexistent`));
    expect(problems[0]).toMatch(
      /:8:13 processors\[0\]\.module: cannot find package "heapstream-plugin-nonexistent"/,
    );
  });

  it('a module whose default export is a sink, and an export that does not exist', async () => {
    const problems = await problemsOf(
      yaml(`  - type: custom
    module: ./not-a-processor.ts
  - type: custom
    module: ./not-a-processor.ts
    export: missing`),
    );
    expect(problems).toEqual([
      `${pipelineFile}:8:13 processors[0].module: export "default" of "./not-a-processor.ts" is not a processor ` +
        'definition: it is a sink definition; export one made with defineProcessor',
      `${pipelineFile}:11:13 processors[1].export: module "./not-a-processor.ts" has no export "missing"; ` +
        'its exports: default, version',
    ]);
  });

  it('a JavaScript module with a named export loads', async () => {
    const config = await loadPipelineConfigText(
      yaml(`  - type: custom\n    module: ./plain.mjs\n    export: dropEmpty`),
      pipelineFile,
      registry(),
      {},
    );
    expect(resolvedOf(config.processors[0]?.config).plugin.type).toBe('drop_empty_batches');
  });

  it('parsePipelineConfig (sync) takes preloaded plugins, and says so when it has none', () => {
    const plugin = defineProcessor({
      type: 'noop',
      description: 'passes everything',
      config: z.strictObject({ level: z.number().default(1) }),
      create: () => (source) => source,
    });
    const text = yaml(`  - type: custom\n    module: my-plugins\n    export: noop\n    config: { level: 3 }`);
    const plugins = new PreloadedPlugins().add('my-plugins', plugin, 'noop');
    const config = parsePipelineConfig(text, 'pipeline.yaml', registry(), {}, { plugins });
    expect(resolvedOf(config.processors[0]?.config).config).toEqual({ level: 3 });
    expect(() => parsePipelineConfig(text, 'pipeline.yaml', registry(), {})).toThrow(
      'pipeline.yaml:8:13 processors[0].module: module "my-plugins" was not imported',
    );
  });
});

describe('custom processor: a throwing plugin is isolated', () => {
  async function load(onError: 'pass' | 'drop') {
    const config = await loadPipelineConfigText(
      yaml(`  - type: custom
    module: ./throwing.ts
    export: throwing
    on_error: ${onError}
    config: { cycle: 2 }`),
      pipelineFile,
      registry(),
      {},
    );
    const ctx = testContext({ id: 'custom' });
    return { op: custom.create(resolvedOf(config.processors[0]?.config), ctx), ctx };
  }

  it('on_error: pass — the failing batches go on unprocessed, each failure is counted, the stream goes on', async () => {
    const { op, ctx } = await load('pass');
    const out = await runProcessor(op, {}, events);
    expect(out.map((e) => e.kind)).toEqual(events.map((e) => e.kind));
    const sizes = batches(out).map((b) => [b.cycle, b.sets.length]);
    // Cycle 1: the plugin's state counts 1, 2 batches. Cycle 2 fails twice: both batches pass unprocessed
    // (all 39 sets), and each failure restarts the plugin, so cycle 3 starts counting afresh.
    expect(sizes).toEqual([
      [1, 1],
      [1, 2],
      [2, fixtureSets.length],
      [2, fixtureSets.length],
      [3, 1],
    ]);
    expect(fixtureSets.length).toBe(39);
    expect(batches(out)[2]).toBe(events[3]);
    expect(ctx.telemetry.value('heapstream_processor_errors_total', { processor: 'custom' })).toBe(2);
  });

  it('on_error: drop — the failing batches are dropped, cycle marks still go on', async () => {
    const { op, ctx } = await load('drop');
    const out = await runProcessor(op, {}, events);
    expect(out.map((e) => (e.kind === 'batch' ? `b${e.cycle}` : `end${e.cycle}`))).toEqual([
      'b1',
      'b1',
      'end1',
      'end2',
      'b3',
      'end3',
    ]);
    expect(ctx.telemetry.total('heapstream_processor_errors_total')).toBe(2);
  });

  it('logs each failure with the plugin’s name', async () => {
    const lines: Record<string, unknown>[] = [];
    const { pino } = await import('pino');
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const plugin = defineProcessor({
      type: 'fragile',
      description: 'throws on node-2',
      config: z.strictObject({}),
      create: () =>
        mapBatches((b) => {
          if (b.scope === 'node' && b.node === 'node-2') throw new Error('node-2 is too much');
          return b;
        }),
    });
    const op = custom.create(customConfigFor(plugin), testContext({ id: 'custom', logger }));
    await runProcessor(op, {}, events);
    expect(lines).toHaveLength(1); // the same error twice within a minute is logged once
    expect(lines[0]).toMatchObject({
      level: 50,
      plugin: 'fragile',
      node: 'node-2',
      cycle: 1,
      msg: 'processor custom: plugin fragile failed on a batch, which was passed on unprocessed; restarted',
    });
  });

  it('a plugin that fails as it is subscribed loses no event', async () => {
    const broken = defineProcessor({
      type: 'broken',
      description: 'fails on subscribe',
      config: z.strictObject({}),
      create: () => () => {
        throw new Error('no state store');
      },
    });
    const ctx = testContext();
    const out = await runProcessor(custom.create(customConfigFor(broken), ctx), {}, events);
    expect(out).toEqual(events);
    expect(ctx.telemetry.total('heapstream_processor_errors_total')).toBe(events.length);
  });

  it('keeps the processor contract', async () => {
    const { op } = await load('pass');
    expect((await checkProcessorContract(op, {}, events)).problems).toEqual([]);
  });
});

describe('the complete example of docs/plugins.md', () => {
  it('loads from YAML and adds per-node working set growth, forgetting a node gone for 3 cycles', async () => {
    const config = await loadPipelineConfigText(
      yaml(`  - type: custom\n    module: ./working-set-growth.ts\n    config: { evict_after_cycles: 3 }`),
      pipelineFile,
      registry(),
      {},
    );
    const op = custom.create(resolvedOf(config.processors[0]?.config), testContext());
    const capture = (version: string) =>
      new URL(`../../../shared/fixtures/kubelet/${version}/stats-summary.json`, import.meta.url);
    // The same node captured on Kubernetes 1.32, then on 1.34: three pods have the same name in both.
    const out = await runProcessor(op, {}, [
      summaryBatch(capture('nri-1.32'), { node: 'n', cycle: 1 }),
      cycleEnd(1, 1),
      summaryBatch(capture('nri-1.34'), { node: 'n', cycle: 2 }),
      cycleEnd(2, 1),
      cycleEnd(6, 1), // the node has been absent for 4 cycles: forgotten
      summaryBatch(capture('nri-1.32'), { node: 'n', cycle: 7 }),
      cycleEnd(7, 1),
    ]);
    const growth = (batch: MetricBatch | undefined): Record<string, number | undefined> =>
      Object.fromEntries(
        (batch?.sets ?? [])
          .filter((s) => s.values['memory/working_set_growth'] !== undefined)
          .map((s): [string, number | undefined] => [
            s.labels.pod_name ?? '',
            s.values['memory/working_set_growth'],
          ]),
      );
    const [first, second, third] = batches(out);
    expect(growth(first)).toEqual({});
    expect(growth(second)).toEqual({
      'e2e-statefulset-0': 10_932_224 - 10_706_944,
      // e2e-statefulset-1 shrank (10756096 → 10633216 B): below min_growth_bytes (0), so no growth.
      'storage-provisioner': 12_902_400 - 10_379_264,
    });
    expect(growth(third)).toEqual({});
  });
});
