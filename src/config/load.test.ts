import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineProcessor, defineSink, defineSource } from '../component/component.js';
import { Registry } from '../component/registry.js';
import { ConfigError } from '../component/errors.js';
import { duration } from '../component/duration.js';
import { loadPipelineConfig, parsePipelineConfig } from './load.js';

const fakeSource = defineSource({
  type: 'fake_source',
  description: 'A source for tests.',
  config: z.strictObject({
    nodes: z.number().int().positive(),
    timeout: duration().default(5000),
    discovery: z
      .union([
        z.strictObject({ kubernetes: z.strictObject({}) }),
        z.strictObject({ static: z.array(z.string()) }),
      ])
      .optional(),
  }),
  create: () => EMPTY,
});

const fakeAggregate = defineProcessor({
  type: 'fake_aggregate',
  description: 'A processor for tests.',
  config: z.strictObject({
    levels: z.array(z.enum(['pod', 'namespace', 'node', 'cluster'])).default(['pod']),
  }),
  create: () => (events) => events,
});

const fakeInflux = defineSink({
  type: 'fake_influx',
  description: 'A sink for tests.',
  config: z.strictObject({
    url: z.string().default('http://localhost:8086'),
    database: z.string(),
    token: z.string().optional(),
  }),
  create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
});

const registry = new Registry().register(fakeSource, fakeAggregate, fakeInflux);

/** The problems of a config expected to be rejected. */
function problemsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parsePipelineConfig(text, 'pipeline.yaml', registry, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const minimal = `source:
  type: fake_source
  nodes: 2
sinks:
  influx:
    type: fake_influx
    database: k8s
`;

describe('parsePipelineConfig', () => {
  it('parses a valid file and fills in every default', () => {
    const config = parsePipelineConfig(minimal, 'conf/pipeline.yaml', registry, {});
    expect(config.file).toBe('conf/pipeline.yaml');
    expect(config.baseDir).toBe(join(process.cwd(), 'conf'));
    expect(config.resolutionMs).toBe(15_000);
    expect(config.log).toEqual({ level: 'info' });
    expect(config.source).toEqual({
      type: 'fake_source',
      id: 'fake_source',
      path: 'source',
      config: { nodes: 2, timeout: 5000 },
    });
    expect(config.processors).toEqual([]);
    expect(config.sinks).toEqual([
      {
        name: 'influx',
        type: 'fake_influx',
        path: 'sinks.influx',
        config: { url: 'http://localhost:8086', database: 'k8s' },
        options: {
          buffer: { max_batches: 1000, max_bytes: 64 * 1024 * 1024, when_full: 'block' },
          retry: { initial_backoff: 1000, max_backoff: 30_000, max_attempts: 0 },
          max_in_flight: 1,
          write_timeout: 30_000,
          shutdown_timeout: 30_000,
        },
      },
    ]);
  });

  it('keeps processors in order with their paths, and reads every top-level key', () => {
    const config = parsePipelineConfig(
      `resolution: 1m
log: { level: debug }
source: { type: fake_source, nodes: 1, timeout: 2s, discovery: { static: [a, b] } }
processors:
  - type: fake_aggregate
  - type: fake_aggregate
    levels: [namespace, cluster]
sinks:
  a-1: { type: fake_influx, database: one }
  b_2: { type: fake_influx, database: two, url: 'http://influx:8086' }
`,
      'pipeline.yaml',
      registry,
      {},
    );
    expect(config.resolutionMs).toBe(60_000);
    expect(config.log.level).toBe('debug');
    expect(config.source.config).toEqual({ nodes: 1, timeout: 2000, discovery: { static: ['a', 'b'] } });
    expect(config.processors).toEqual([
      {
        type: 'fake_aggregate',
        id: 'fake_aggregate',
        path: 'processors[0]',
        options: { on_error: 'pass' },
        config: { levels: ['pod'] },
      },
      {
        type: 'fake_aggregate',
        id: 'fake_aggregate#2',
        path: 'processors[1]',
        options: { on_error: 'pass' },
        config: { levels: ['namespace', 'cluster'] },
      },
    ]);
    expect(config.sinks.map((sink) => [sink.name, sink.path, sink.config.database])).toEqual([
      ['a-1', 'sinks.a-1', 'one'],
      ['b_2', 'sinks.b_2', 'two'],
    ]);
  });

  it('reports three mistakes at once, each at its line:col with its key path', () => {
    const text = `resolution: 15s
source:
  type: fake_source
  nodes: three
  timeout: 5 seconds
processors:
  - type: fake_aggregate
    levels: [pod]
sinks:
  influx:
    type: fake_influx
    url: http://influxdb:8086
    databse: k8s
`;
    expect(problemsOf(text)).toEqual([
      'pipeline.yaml:4:10 source.nodes: expected a number, got the string "three"',
      'pipeline.yaml:5:12 source.timeout: "5 seconds" is not a duration: use a number and a unit, e.g. 500ms, 15s, 1m, 2h',
      'pipeline.yaml:13:5 sinks.influx.databse: unknown key (did you mean "database"?)',
    ]);
  });

  it('reads cluster_name, and reports one that is not a label value at its line', () => {
    const config = parsePipelineConfig(`cluster_name: prod-eu-1\n${minimal}`, 'pipeline.yaml', registry, {});
    expect(config.cluster_name).toBe('prod-eu-1');
    expect(parsePipelineConfig(minimal, 'pipeline.yaml', registry, {}).cluster_name).toBeUndefined();
    const [problem, ...rest] = problemsOf(`cluster_name: prod/eu\n${minimal}`);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^pipeline\.yaml:1:15 cluster_name: a cluster name is 1 to 63 letters/);
  });

  it('reports mistakes in the top level, processors and sinks together, sorted by line', () => {
    const text = `resolution: 500ms
sorce: {}
source: { type: fake_source, nodes: 1 }
processors:
  - type: fake_aggregate
    levels: [pod, namspace]
    lvels: []
sinks:
  influx:
    type: fake_influx
    database: k8s
    buffer: { max_batches: 0, when_ful: block }
  Bad.Name: { type: fake_influx, database: x }
log: { level: verbose }
`;
    expect(problemsOf(text)).toEqual([
      'pipeline.yaml:1:13 resolution: "500ms" is out of range: use 1s to 1h',
      'pipeline.yaml:2:1 sorce: unknown key (did you mean "source"?)',
      'pipeline.yaml:6:19 processors[0].levels[1]: expected one of "pod", "namespace", "node", "cluster", got the string "namspace" (did you mean "namespace"?)',
      'pipeline.yaml:7:5 processors[0].lvels: unknown key (did you mean "levels"?)',
      'pipeline.yaml:12:28 sinks.influx.buffer.max_batches: Too small: expected number to be >0',
      'pipeline.yaml:12:31 sinks.influx.buffer.when_ful: unknown key (did you mean "when_full"?)',
      'pipeline.yaml:13:3 sinks["Bad.Name"]: sink names may use only a-z, 0-9, "_" and "-"',
      'pipeline.yaml:14:15 log.level: expected one of "trace", "debug", "info", "warn", "error", "silent", got the string "verbose"',
    ]);
  });

  it('names the known types, with a did-you-mean, for an unknown type', () => {
    const text = `source: { type: fake_source, nodes: 1 }
processors:
  - type: fake_agregate
sinks:
  influx: { type: kafka, database: k8s }
`;
    expect(problemsOf(text)).toEqual([
      'pipeline.yaml:3:11 processors[0].type: unknown processor type "fake_agregate" (did you mean "fake_aggregate"?); known types: fake_aggregate',
      'pipeline.yaml:5:19 sinks.influx.type: unknown sink type "kafka"; known types: fake_influx',
    ]);
  });

  it('reports a missing required key at the mapping that lacks it', () => {
    const text = `source:
  nodes: 1
sinks:
  influx:
    type: fake_influx
    url: http://x
`;
    expect(problemsOf(text)).toEqual([
      'pipeline.yaml:2:3 source.type: missing required key',
      'pipeline.yaml:5:5 sinks.influx.database: missing required key',
    ]);
    expect(problemsOf('source: { type: fake_source, nodes: 1 }\n')).toEqual([
      'pipeline.yaml:1:1 sinks: missing required key',
    ]);
    expect(problemsOf(`${minimal.split('sinks:')[0]}sinks: {}\n`)).toEqual([
      'pipeline.yaml:4:8 sinks: at least one sink is required',
    ]);
  });

  it('reports the closest member of a union, with its unknown keys', () => {
    const text = `source:
  type: fake_source
  nodes: 1
  discovery: { statik: [a] }
sinks: { s: { type: fake_influx, database: d } }
`;
    expect(problemsOf(text)).toEqual([
      'pipeline.yaml:4:16 source.discovery.statik: unknown key (did you mean "static"?)',
    ]);
  });

  it('reports a YAML syntax error at its position and nothing else', () => {
    const text = `source:
  type: fake_source
  nodes: [1, 2
sinks: {}
`;
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^pipeline\.yaml:4:1 YAML syntax error: /);
    expect(problemsOf('source:\n  type: x\n nodes: 1\n')).toEqual([
      'pipeline.yaml:3:1 YAML syntax error: All mapping items must start at the same column',
    ]);
    expect(problemsOf('source:\n\ttype: x\n')).toEqual([
      'pipeline.yaml:2:1 YAML syntax error: Tabs are not allowed as indentation',
    ]);
    expect(problemsOf('a: 1\na: 2\n')).toEqual([
      'pipeline.yaml:2:1 YAML syntax error: Map keys must be unique',
    ]);
  });

  it('reports an empty file, and a file that is not a mapping', () => {
    expect(problemsOf('')).toEqual([
      'pipeline.yaml:1:1 the file is empty: it needs at least `source` and `sinks`',
    ]);
    expect(problemsOf('- a\n')).toEqual(['pipeline.yaml:1:1 expected a mapping, got a list']);
  });
});

describe('environment substitution', () => {
  const text = `source: { type: fake_source, nodes: 1 }
sinks:
  influx:
    type: fake_influx
    url: \${env:INFLUX_URL:-http://localhost:8086}/api
    database: \${env:INFLUX_DB}
    token: "Bearer \${env:TOKEN} $\${env:LITERAL}"
`;

  it('substitutes set variables, falls back to defaults and keeps escaped references literal', () => {
    const config = parsePipelineConfig(text, 'pipeline.yaml', registry, {
      INFLUX_DB: 'k8s',
      TOKEN: 's3cret',
    });
    expect(config.sinks[0]?.config).toEqual({
      url: 'http://localhost:8086/api',
      database: 'k8s',
      token: 'Bearer s3cret ${env:LITERAL}',
    });
    const overridden = parsePipelineConfig(text, 'pipeline.yaml', registry, {
      INFLUX_URL: 'https://influx',
      INFLUX_DB: 'k8s',
      TOKEN: 't',
    });
    expect(overridden.sinks[0]?.config.url).toBe('https://influx/api');
  });

  it('reports each unset variable at its scalar', () => {
    expect(problemsOf(text, { TOKEN: 't' })).toEqual([
      'pipeline.yaml:6:15 sinks.influx.database: environment variable "INFLUX_DB" is not set (set it, or give a default: ${env:INFLUX_DB:-value})',
    ]);
    expect(problemsOf(text, {})).toHaveLength(2);
  });
});

describe('sink runner options', () => {
  it('validates the engine-owned keys beside the sink’s own and fills their defaults', () => {
    const config = parsePipelineConfig(
      `source: { type: fake_source, nodes: 1 }
sinks:
  influx:
    type: fake_influx
    database: k8s
    select: { types: [pod, node] }
    buffer: { max_batches: 5, when_full: drop_oldest }
    retry: { initial_backoff: 250ms, max_attempts: 3 }
    write_timeout: 2s
`,
      'pipeline.yaml',
      registry,
      {},
    );
    expect(config.sinks[0]?.options).toEqual({
      select: { types: ['pod', 'node'] },
      buffer: { max_batches: 5, max_bytes: 64 * 1024 * 1024, when_full: 'drop_oldest' },
      retry: { initial_backoff: 250, max_backoff: 30_000, max_attempts: 3 },
      max_in_flight: 1,
      write_timeout: 2000,
      shutdown_timeout: 30_000,
    });
    expect(config.sinks[0]?.config).toEqual({ url: 'http://localhost:8086', database: 'k8s' });
  });

  it('reports bad runner options with their paths', () => {
    expect(
      problemsOf(`source: { type: fake_source, nodes: 1 }
sinks:
  influx:
    type: fake_influx
    database: k8s
    buffer: { when_full: drop }
    retry: { max_backoff: soon }
    max_in_flights: 2
`),
    ).toEqual([
      'pipeline.yaml:6:26 sinks.influx.buffer.when_full: expected one of "block", "drop_oldest", "drop_newest", got the string "drop"',
      'pipeline.yaml:7:27 sinks.influx.retry.max_backoff: "soon" is not a duration: use a number and a unit, e.g. 500ms, 15s, 1m, 2h',
      'pipeline.yaml:8:5 sinks.influx.max_in_flights: unknown key (did you mean "max_in_flight"?)',
    ]);
  });
});

describe('loadPipelineConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the file and resolves baseDir to its directory', async () => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-config-'));
    const path = join(dir, 'pipeline.yaml');
    writeFileSync(path, minimal);
    const config = await loadPipelineConfig(path, registry, {});
    expect(config.baseDir).toBe(dir);
    expect(config.source.config.nodes).toBe(2);
  });

  it('throws a ConfigError naming a file it cannot read', async () => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-config-'));
    const path = join(dir, 'missing.yaml');
    await expect(loadPipelineConfig(path, registry, {})).rejects.toThrow(ConfigError);
    await expect(loadPipelineConfig(path, registry, {})).rejects.toThrow(
      /missing\.yaml: cannot read the pipeline file/,
    );
  });
});
