import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../builtins.js';
import { ConfigError } from '../component/errors.js';
import { silentLogger } from '../component/logger.js';
import type { MetadataProvider } from '../component/metadata.js';
import { createPipeline } from '../engine/pipeline.js';
import { PipelineSupervisor } from '../engine/supervisor.js';
import { loadPipelineConfig, loadPipelineConfigText, parsePipelineConfig, type LoadOptions } from './load.js';
import { pipelineJsonSchema } from './json-schema.js';
import { loadPluginRegistry } from './load.js';
import { PreloadedPlugins } from './plugins.js';
import type { MetricBatch } from '../model/types.js';
import { cycleEnd, runProcessor, summaryBatch } from '../testing/index.js';

// The pipeline file the texts below stand for: plugin paths resolve against its directory.
const pipelineFile = fileURLToPath(new URL('../../test/plugins/pipeline.yaml', import.meta.url));
const payload = fileURLToPath(
  new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url),
);

async function problemsOf(text: string, file = pipelineFile, options: LoadOptions = {}): Promise<string[]> {
  try {
    await loadPipelineConfigText(text, file, createBuiltinRegistry(), {}, options);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

interface SummaryLine {
  cycle: number;
  scope: string;
  sets: number;
  namespaces: Record<string, number>;
}

describe('plugins: their types are used like built-ins', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-plugins-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const pipeline = (out: string, processor = 'keep_namespace') => `resolution: 1s
plugins:
  - ./keep-namespace.ts
  - ./pipeline-parts.ts
source:
  type: replay_summary
  payload: ${payload}
  node: node-7
processors:
  - type: ${processor}
    namespace: scraper
    keep_node_sets: false
sinks:
  lines:
    type: summary_lines
    path: ${out}
    max_in_flight: 1
`;

  it('runs a plugin source, processor and sink named by type, through the loader and a real pipeline', async () => {
    const out = join(dir, 'out.jsonl');
    const registry = createBuiltinRegistry();
    const config = await loadPipelineConfigText(pipeline(out), pipelineFile, registry, {});
    expect([
      config.source.type,
      ...config.processors.map((p) => p.type),
      ...config.sinks.map((s) => s.type),
    ]).toEqual(['replay_summary', 'keep_namespace', 'summary_lines']);
    expect(config.processors[0]?.config).toEqual({ namespace: 'scraper', keep_node_sets: false });
    expect(config.processors[0]?.options).toEqual({ on_error: 'pass' });
    // The caller's registry is left as it was: a reload starts again from the built-ins.
    expect(registry.get('processor', 'keep_namespace')).toBeUndefined();

    await createPipeline(config, { registry, logger: silentLogger(), cycles: 2 }).run();
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SummaryLine);
    // nri-1.34's node runs 9 pods of namespace scraper, one container each: 18 sets, and nothing else kept.
    expect(lines.map(({ cycle, ...rest }) => ({ cycle: cycle - (lines[0]?.cycle ?? 0), ...rest }))).toEqual([
      { cycle: 0, scope: 'node', sets: 18, namespaces: { scraper: 18 } },
      { cycle: 1, scope: 'node', sets: 18, namespaces: { scraper: 18 } },
    ]);
  }, 30_000); // a real pipeline with a loader: seconds on a busy machine

  it('reports an unknown key of a plugin type at its position, with every other problem', async () => {
    const text = pipeline(join(dir, 'out.jsonl'))
      .replace('    namespace: scraper', '    namespce: scraper')
      .replace('  node: node-7', '  nodes: node-7');
    expect(await problemsOf(text)).toEqual([
      `${pipelineFile}:8:3 source.nodes: unknown key (did you mean "node"?)`,
      `${pipelineFile}:11:5 processors[0].namespce: unknown key (did you mean "namespace"?)`,
    ]);
  });

  it('reports a type that collides with a built-in, or with another plugin, at its entry of plugins:', async () => {
    const text = `plugins:
  - ./rate-again.mjs
  - ./keep-namespace.ts
  - ./keep-namespace-copy.mjs
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;
    const copy = join(dir, 'keep-namespace-copy.mjs');
    writeFileSync(
      copy,
      "export { default } from '" +
        fileURLToPath(new URL('../../test/plugins/keep-namespace.ts', import.meta.url)) +
        "';\n",
    );
    expect(await problemsOf(text.replace('./keep-namespace-copy.mjs', copy))).toEqual([
      `${pipelineFile}:2:5 plugins[0]: processor type "rate" of "./rate-again.mjs" is already a built-in processor ` +
        'type; give the plugin another type name',
      `${pipelineFile}:4:5 plugins[2]: processor type "keep_namespace" of "${copy}" is also defined by ` +
        '"./keep-namespace.ts" (plugins[1]); give one of them another type name',
    ]);
  });

  it('reports a definition that declares a key the engine owns on every entry of its kind', async () => {
    writeFileSync(
      join(dir, 'own-on-error.mjs'),
      "import { z } from 'zod';\n" +
        "export default { kind: 'processor', type: 'careful', description: '', create: () => (s) => s,\n" +
        '  config: z.strictObject({ on_error: z.string() }) };\n',
    );
    const text = `plugins: [${join(dir, 'own-on-error.mjs')}]
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;
    expect(await problemsOf(text)).toEqual([
      `${pipelineFile}:1:11 plugins[0]: processor type "careful" of "${join(dir, 'own-on-error.mjs')}" declares ` +
        '"on_error", which the engine handles on every processor; rename it in its schema',
    ]);
  });

  it('reports a plugin file that does not exist at its entry, and a type nobody defines at the entry using it', async () => {
    const text = `plugins: [./no-such-plugin.ts]
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
processors:
  - type: no_such
sinks: { out: { type: stdout } }
`;
    const missing = fileURLToPath(new URL('../../test/plugins/no-such-plugin.ts', import.meta.url));
    const problems = await problemsOf(text);
    expect(problems[0]).toBe(
      `${pipelineFile}:1:11 plugins[0]: cannot find module "./no-such-plugin.ts": no file at ${missing}`,
    );
    expect(problems[1]).toMatch(/^.*:4:11 processors\[0\]\.type: unknown processor type "no_such"/);
    expect(problems).toHaveLength(2);
  });

  it('reports modules that cannot be used: a failing import, a package not installed, no definition', async () => {
    const text = `plugins:
  - ./broken-import.ts
  - heapstream-plugin-nonexistent
  - ./not-a-definition.mjs
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;
    writeFileSync(join(dir, 'not-a-definition.mjs'), "export const kind = 'nothing';\nexport default 42;\n");
    const problems = await problemsOf(
      text.replace('./not-a-definition.mjs', join(dir, 'not-a-definition.mjs')),
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /:2:5 plugins\[0\]: cannot load module "\.\/broken-import\.ts": .*does-not-exist/,
    );
    expect(problems[1]).toMatch(/:3:5 plugins\[1\]: cannot find package "heapstream-plugin-nonexistent"/);
    expect(problems[2]).toMatch(
      /:4:5 plugins\[2\]: module ".*not-a-definition\.mjs" exports no definition made with defineSource, defineProcessor or defineSink; its exports: default, kind$/,
    );
  });

  it('registers every definition a module exports, named or default, in plain JavaScript too', async () => {
    const text = `plugins: [./plain.mjs, ./not-a-processor.ts]
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
processors: [{ type: drop_empty_batches, on_error: drop }]
sinks: { out: { type: nowhere } }
`;
    const config = await loadPipelineConfigText(text, pipelineFile, createBuiltinRegistry(), {});
    expect(config.plugins.map((d) => `${d.kind} ${d.type}`)).toEqual([
      'processor drop_empty_batches',
      'sink nowhere',
    ]);
    expect(config.processors[0]?.options).toEqual({ on_error: 'drop' });
  });

  it('parsePipelineConfig (sync) takes preloaded plugins, and says so when it has none', () => {
    const text = `plugins: [my-plugins]
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;
    expect(() => parsePipelineConfig(text, 'pipeline.yaml', createBuiltinRegistry(), {})).toThrow(
      'pipeline.yaml:1:11 plugins[0]: module "my-plugins" was not imported',
    );
    const plugins = new PreloadedPlugins().add('my-plugins');
    expect(
      parsePipelineConfig(text, 'pipeline.yaml', createBuiltinRegistry(), {}, { plugins }).plugins,
    ).toEqual([]);
  });

  it('says what replaced `type: custom`', async () => {
    const text = `source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
processors:
  - type: custom
    module: ./keep-namespace.ts
sinks: { out: { type: stdout } }
`;
    const problems = await problemsOf(text);
    expect(problems[0]).toMatch(
      /:3:11 processors\[0\]\.type: type "custom" was removed: list the module under the top-level `plugins:` key/,
    );
  });

  it('a reload with a changed plugin list imports the new plugins; the caller’s registry stays as it was', async () => {
    const file = join(dir, 'pipeline.yaml');
    const plugin = fileURLToPath(new URL('../../test/plugins/keep-namespace.ts', import.meta.url));
    const registry = createBuiltinRegistry();
    const base = `source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;
    writeFileSync(file, base);
    expect((await loadPipelineConfig(file, registry, {})).plugins).toEqual([]);
    writeFileSync(
      file,
      `plugins: [${plugin}]\n${base}processors: [{ type: keep_namespace, namespace: a }]\n`,
    );
    const reloaded = await loadPipelineConfig(file, registry, {});
    expect(reloaded.processors.map((p) => p.type)).toEqual(['keep_namespace']);
    // Loaded again (a second reload): a JavaScript module comes from Node's module cache, the same definition.
    const plain = fileURLToPath(new URL('../../test/plugins/plain.mjs', import.meta.url));
    writeFileSync(file, `plugins: [${plain}]\n${base}`);
    const [first] = (await loadPipelineConfig(file, registry, {})).plugins;
    const [second] = (await loadPipelineConfig(file, registry, {})).plugins;
    expect(first?.type).toBe('drop_empty_batches');
    expect(second).toBe(first);
    writeFileSync(file, base + 'processors: [{ type: keep_namespace, namespace: a }]\n');
    await expect(loadPipelineConfig(file, registry, {})).rejects.toThrow(
      /processors\[0\]\.type: unknown processor type "keep_namespace"/,
    );
  });

  it('a running pipeline reloaded with a plugin added uses the new plugin’s type', async () => {
    const out = join(dir, 'out.jsonl');
    const registry = createBuiltinRegistry();
    const before = `resolution: 1s
plugins: [./pipeline-parts.ts]
source: { type: replay_summary, payload: ${payload} }
sinks:
  lines: { type: summary_lines, path: ${out} }
`;
    const after = before
      .replace('plugins: [./pipeline-parts.ts]', 'plugins: [./pipeline-parts.ts, ./keep-namespace.ts]')
      .replace(
        'sinks:',
        'processors: [{ type: keep_namespace, namespace: scraper, keep_node_sets: false }]\nsinks:',
      );
    const lines = (): SummaryLine[] => {
      try {
        return readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as SummaryLine);
      } catch {
        return [];
      }
    };
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(done()).toBe(true);
    };
    const supervisor = new PipelineSupervisor({ registry, logger: silentLogger() });
    supervisor.start(await loadPipelineConfigText(before, pipelineFile, registry, {}));
    await until(() => lines().length > 0);
    expect(lines()[0]?.sets).toBe(39); // no processor: every set of the payload
    await supervisor.reload(() => loadPipelineConfigText(after, pipelineFile, registry, {}));
    await until(() => lines().some((l) => l.sets === 18));
    supervisor.stop();
    expect(await supervisor.done).toBe(false);
    expect(supervisor.telemetry.value('heapstream_config_reloads_total', { result: 'applied' })).toBe(1);
    expect(lines().at(-1)).toMatchObject({ sets: 18, namespaces: { scraper: 18 } });
  }, 30_000); // a real pipeline and a reload: seconds on a busy machine

  it('the JSON Schema of a file with plugins: includes their types, with on_error beside their keys', async () => {
    const registry = await loadPluginRegistry(
      pipelineFile.replace('pipeline.yaml', 'with-plugins.yaml'),
      createBuiltinRegistry(),
    );
    const text = JSON.stringify(pipelineJsonSchema(registry));
    const schema = JSON.parse(text) as { properties: Record<string, { items?: { oneOf?: unknown[] } }> };
    const processors = schema.properties.processors?.items?.oneOf as {
      properties: Record<string, { const?: string; enum?: string[] }>;
    }[];
    const keep = processors.find((m) => m.properties.type?.const === 'keep_namespace');
    expect(Object.keys(keep?.properties ?? {}).sort()).toEqual([
      'keep_node_sets',
      'name',
      'namespace',
      'on_error',
      'type',
    ]);
    expect(keep?.properties.on_error?.enum).toEqual(['pass', 'drop']);
    expect(text).toContain('"const":"replay_summary"');
    expect(text).toContain('"const":"summary_lines"');
    expect(JSON.stringify(pipelineJsonSchema(createBuiltinRegistry()))).not.toContain('keep_namespace');
  });
});

describe('the complete example of docs/plugins.md', () => {
  const docsYaml = (key: string) => `plugins:
  - ./working-set-growth.ts
processors:
  - type: rate
  - type: working_set_growth
    ${key}: 1048576
    on_error: pass
source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
sinks: { out: { type: stdout } }
`;

  it('reports a mistaken key where the page says', async () => {
    expect(await problemsOf(docsYaml('min_growth_byte'), pipelineFile)).toEqual([
      `${pipelineFile}:6:5 processors[1].min_growth_byte: unknown key (did you mean "min_growth_bytes"?)`,
    ]);
  });

  it('loads from YAML and adds per-node working set growth, forgetting a node gone for 3 cycles', async () => {
    const text = docsYaml('min_growth_bytes').replace('1048576', '0');
    const registry = createBuiltinRegistry();
    const config = await loadPipelineConfigText(text, pipelineFile, registry, {});
    const entry = config.processors[1];
    const def = registry.with(...config.plugins).get('processor', entry?.type ?? '');
    if (entry === undefined || def === undefined) throw new Error('working_set_growth was not registered');
    const capture = (version: string) =>
      new URL(`../../../shared/fixtures/kubelet/${version}/stats-summary.json`, import.meta.url);
    // The same node captured on Kubernetes 1.32, then on 1.34: three pods have the same name in both.
    const out = await runProcessor(def, entry.config, [
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
          .filter((s) => s.values.get('memory/working_set_growth') !== undefined)
          .map((s): [string, number | undefined] => [
            s.labels.pod_name ?? '',
            s.values.get('memory/working_set_growth'),
          ]),
      );
    const [first, second, third] = out.filter((e): e is MetricBatch => e.kind === 'batch');
    expect(growth(first)).toEqual({});
    expect(growth(second)).toEqual({
      'e2e-statefulset-0': 10_932_224 - 10_706_944,
      // e2e-statefulset-1 shrank (10756096 → 10633216 B): below min_growth_bytes (0), so no growth.
      'storage-provisioner': 12_902_400 - 10_379_264,
    });
    expect(growth(third)).toEqual({});
  });
});

describe('on_error: an engine option of every processor', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-on-error-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // The metadata cache fails (a bug, a broken informer): the built-in pod_enricher throws on every batch with pods.
  const failingMetadata: MetadataProvider = {
    pod: () => {
      throw new Error('metadata cache is broken');
    },
    namespace: () => undefined,
    node: () => undefined,
  };

  async function run(onError: string): Promise<{ lines: SummaryLine[]; errors: number }> {
    const out = join(dir, `${onError}.jsonl`);
    const text = `resolution: 1s
plugins: [./pipeline-parts.ts]
source: { type: replay_summary, payload: ${payload} }
processors:
  - type: pod_enricher
    on_error: ${onError}
sinks:
  lines: { type: summary_lines, path: ${out} }
`;
    const registry = createBuiltinRegistry();
    const config = await loadPipelineConfigText(text, pipelineFile, registry, {});
    const pipeline = createPipeline(config, {
      registry,
      logger: silentLogger(),
      cycles: 2,
      metadata: failingMetadata,
    });
    await pipeline.run();
    let content = '';
    try {
      content = readFileSync(out, 'utf8');
    } catch {
      // nothing was written
    }
    const lines =
      content === ''
        ? []
        : content
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as SummaryLine);
    return { lines, errors: pipeline.telemetry.total('heapstream_processor_errors_total') };
  }

  it('pass: a batch a built-in processor fails on goes on unprocessed, counted; the stream goes on', async () => {
    const { lines, errors } = await run('pass');
    // Both cycles' batches, unprocessed: nri-1.34's 39 sets, none given pod labels.
    expect(lines.map((l) => l.sets)).toEqual([39, 39]);
    expect(errors).toBe(2);
  });

  it('drop: the batch is dropped and counted; the next cycle still runs', async () => {
    // Two errors: the processor was given the second cycle's batch too.
    const { lines, errors } = await run('drop');
    expect(lines).toEqual([]);
    expect(errors).toBe(2);
  });

  it('is validated like any key', async () => {
    const text = `source: { type: kubelet_summary, discovery: { static: [{ name: n, address: 127.0.0.1 }] } }
processors:
  - type: rate
    on_eror: drop
  - type: rate
    on_error: ignore
sinks: { out: { type: stdout } }
`;
    expect(await problemsOf(text, 'pipeline.yaml')).toEqual([
      'pipeline.yaml:4:5 processors[0].on_eror: unknown key (did you mean "on_error"?)',
      'pipeline.yaml:6:15 processors[1].on_error: expected one of "pass", "drop", got the string "ignore"',
    ]);
  });
});

describe('importing plugins: limits and one-line errors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-plugins-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const pipeline = (module: string) => `source:
  type: kubelet_summary
  discovery: { static: [{ name: node-1, address: 127.0.0.1 }] }
plugins:
  - ${module}
sinks:
  out: { type: stdout }
`;

  async function problemsOfPlugin(
    plugin: string,
    source: string,
    options: LoadOptions = {},
  ): Promise<string[]> {
    writeFileSync(join(dir, plugin), source);
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(file, pipeline(`./${plugin}`));
    try {
      await loadPipelineConfig(file, createBuiltinRegistry(), {}, options);
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    throw new Error('expected the config to be rejected');
  }

  it('gives up a plugin whose top-level await never settles, naming its file', async () => {
    const started = Date.now();
    const problems = await problemsOfPlugin(
      'hangs.mjs',
      'await new Promise(() => {});\nexport default {};\n',
      {
        pluginImportTimeoutMs: 300,
      },
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(problems).toEqual([
      `${join(dir, 'pipeline.yaml')}:5:5 plugins[0]: module "./hangs.mjs" (${join(dir, 'hangs.mjs')}) ` +
        'did not finish loading within 0.3s: its top-level code is still running (an await that never settles?)',
    ]);
  });

  it('gives up a plugin whose import waits on a timer longer than the limit', async () => {
    const problems = await problemsOfPlugin(
      'slow.mjs',
      'await new Promise((resolve) => setTimeout(resolve, 60_000).unref());\nexport default {};\n',
      { pluginImportTimeoutMs: 200 },
    );
    expect(problems[0]).toContain('module "./slow.mjs"');
    expect(problems[0]).toContain('did not finish loading within 0.2s');
  });

  it('says in one line what a plugin threw as it loaded', async () => {
    // Where it was thrown is added from the stack under plain Node.js (the CLI test checks it), not under vitest.
    const thrown = await problemsOfPlugin(
      'throws.mjs',
      "const x = 1;\nthrow new TypeError('bad value ' + x + '\\nmore');\n",
    );
    expect(thrown).toHaveLength(1);
    expect(thrown[0]).toMatch(
      /^.*pipeline\.yaml:5:5 plugins\[0\]: cannot load module "\.\/throws\.mjs": TypeError: bad value 1( \(thrown at .*throws\.mjs:2:7\))?$/,
    );
    const notAnError = await problemsOfPlugin('object.mjs', 'throw { code: 42 };\n');
    expect(notAnError[0]).toMatch(
      /plugins\[0\]: cannot load module "\.\/object\.mjs": it threw \{ code: 42 \}$/,
    );
  });
});
