/**
 * Property-based tests of the config loader: real pipeline files with hostile YAML put in (aliases and alias
 * bombs, self-referencing aliases, deep nesting, odd scalars and tags, duplicate and unknown keys, wrong types,
 * huge scalars, broken `${env:…}`). Whatever the file holds, loading ends quickly with a config or a ConfigError.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadPipelineConfig, loadPipelineConfigText } from '../../src/config/load.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import { ConfigError } from '../../src/component/errors.js';
import { JsonCapture } from './captures.js';
import {
  fuzzParameters,
  fuzzTimeout,
  Huge,
  hostileNumber,
  hostileString,
  hugeString,
  jsonMutation,
  mutatedJsonText,
} from './support.js';

const RUNS = 100;
/**
 * Loading a pipeline file takes milliseconds; seconds mean an expansion or a parser out of bounds. Generous, as
 * the machine running the tests may be busy.
 */
const LOAD_TIME_LIMIT_MS = 4_000;

const registry = createBuiltinRegistry();
const env = { INFLUX_TOKEN: 'token', HOME: '/home/fuzz' };
const dir = mkdtempSync(join(tmpdir(), 'heapstream-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** A file using every built-in component, with keys from their READMEs. */
const EVERYTHING = `
resolution: 15s
source:
  type: kubelet_prometheus
  endpoint: cadvisor
  discovery: { static: [{ name: node-a, address: 10.0.0.11 }] }
  scheme: https
  port: 10250
  system_containers: summary
  timeout: 5s
processors:
  - type: rate
  - type: filter
    include: { types: [node, pod, pod_container] }
    exclude: { namespaces: [kube-system], labels: [heapstream.io/ignore=true], metrics: ['filesystem/*'] }
  - type: aggregate
    levels: [pod, namespace, node, cluster]
sinks:
  lake:
    type: file
    path: ./lake
    format: parquet
    partition: dt={date}/hour={hour}/type={type}
    compression: zstd
    row_group_size: 50000
    roll: { max_bytes: 134217728, max_age: 5m }
    retention: 168h
    select: { types: [pod, pod_container, node, ns] }
  bus:
    type: kafka
    brokers: [kafka-0.kafka:9092]
    topic: k8s-metrics
    format: set
    key: node
    compression: gzip
    buffer: { max_batches: 1000, when_full: block }
    retry: { initial_backoff: 1s, max_backoff: 30s, max_attempts: 3 }
  tsdb:
    type: influxdb
    url: http://influxdb:8086
    org: acme
    bucket: k8s
    token: \${env:INFLUX_TOKEN}
  out:
    type: stdout
    format: jsonl
server:
  port: 9102
log:
  level: warn
`;

const seeds = [
  new JsonCapture('pipeline.yaml', parse(repoFile('pipeline.yaml'))),
  new JsonCapture('pipeline.example.yaml', parse(repoFile('pipeline.example.yaml'))),
  new JsonCapture('every component', parse(EVERYTHING)),
];

/** Text put into a pipeline file, at the end or in place of a value. */
type YamlInjection =
  | { readonly kind: 'alias_bomb'; readonly levels: number; readonly fanOut: number }
  | { readonly kind: 'self_alias' }
  | { readonly kind: 'nesting'; readonly depth: number; readonly flow: boolean }
  | { readonly kind: 'scalar'; readonly text: string }
  | { readonly kind: 'huge'; readonly value: Huge }
  | { readonly kind: 'raw'; readonly text: string };

const oddScalar = fc.constantFrom(
  '.nan',
  '.inf',
  '-.inf',
  '0o17',
  '0x1F',
  '1_000',
  '~',
  'yes',
  'off',
  '2001-12-14t21:59:43.10-05:00',
  '"\\u0000"',
  '1e999',
  '18446744073709551615',
  '-1',
  '720h',
  '-1s',
  '0s',
  '1e400s',
  '!!binary aGVsbG8=',
  '!!set { a, b }',
  '!!omap [ a: 1 ]',
  '!!js/undefined x',
  '!custom 1',
  '!!str',
  '!!int x',
  '!!float .5',
  '${env:}',
  '${env:MISSING}',
  '${env:A:-${env:B}}',
  '${env:HOME',
  '"${{}}"',
  '[]',
  '{}',
  '[ [ ] , { } ]',
  '{ <<: [] }',
  '"\\ud800"',
  '|\n    literal\n    block',
  '>-\n    folded',
);

/** Aliases: up to 10^5 nodes (enough to show an expansion without a limit, not enough to hang a test). */
const aliasInjection: fc.Arbitrary<YamlInjection> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('alias_bomb' as const),
      levels: fc.integer({ min: 1, max: 5 }),
      fanOut: fc.integer({ min: 2, max: 10 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('self_alias' as const) }) },
);

const injection: fc.Arbitrary<YamlInjection> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nesting' as const),
      depth: fc.integer({ min: 10, max: 5_000 }),
      flow: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('scalar' as const), text: oddScalar }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), value: hugeString }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.constantFrom(
          'resolution: 1s\nresolution: 2s',
          'x: &a 1\ny: *a\nz: *b',
          'base: &base { type: stdout }\nsinks: { out: { <<: *base, format: jsonl } }',
          '\tsource: 1',
          '\ufeffresolution: 15s',
          '---\nresolution: 15s\n---\nresolution: 5s',
          '%YAML 1.1\n---',
          '? [a, b]\n: c',
          '? { a: b }\n: c',
          '__proto__: { polluted: true }',
          'constructor: { prototype: { polluted: true } }',
          'sinks: !!null',
        ),
      ),
    }),
  },
);

/** An alias bomb ("billion laughs"): `levels` anchors, each a list of `fanOut` aliases of the previous one. */
function aliasBomb(levels: number, fanOut: number): string {
  const lines = ['lol0: &l0 "lol"'];
  for (let i = 1; i <= levels; i++) {
    lines.push(`lol${i}: &l${i} [${Array.from({ length: fanOut }, () => `*l${i - 1}`).join(', ')}]`);
  }
  return lines.join('\n');
}

function nested(depth: number, flow: boolean): string {
  if (flow) return `deep: ${'['.repeat(depth)}${']'.repeat(depth)}`;
  const lines = ['deep:'];
  for (let i = 1; i <= depth; i++) lines.push(`${' '.repeat(i)}k${i}:`);
  return lines.join('\n');
}

/** Where an injection goes: appended as top-level keys, or in place of one top-level key's value. */
function injected(text: string, inject: YamlInjection, replaceKey: string | undefined): string {
  let block: string;
  switch (inject.kind) {
    case 'alias_bomb':
      block = aliasBomb(inject.levels, inject.fanOut);
      break;
    case 'self_alias':
      block = 'loop: &a [*a]';
      break;
    case 'nesting':
      block = nested(inject.depth, inject.flow);
      break;
    case 'scalar':
      block = `odd: ${inject.text}`;
      break;
    case 'huge':
      block = `huge: "${inject.value.text()}"`;
      break;
    case 'raw':
      block = inject.text;
      break;
  }
  if (replaceKey !== undefined && (inject.kind === 'scalar' || inject.kind === 'huge')) {
    const value = block.slice(block.indexOf(': ') + 2);
    const pattern = new RegExp(`^(\\s*${replaceKey}:).*$`, 'm');
    // A function, not a string: the value may hold `$&` or `$1`, which a replacement string would expand.
    if (pattern.test(text)) return text.replace(pattern, (_line, key: string) => `${key} ${value}`);
  }
  return `${text}\n${block}\n`;
}

/** Loads `text` (from a temp file when `viaFile`) and checks the loader's contract. */
async function expectLoadsSafely(text: string, viaFile: boolean): Promise<void> {
  const file = join(dir, 'pipeline.yaml');
  const started = performance.now();
  try {
    const importPlugin = (): never => {
      throw new ConfigError(['plugins are not imported while fuzzing']);
    };
    if (viaFile) {
      writeFileSync(file, text);
      await loadPipelineConfig(file, registry, env, { importPlugin });
    } else {
      await loadPipelineConfigText(text, file, registry, env, { importPlugin });
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Error(`the loader threw ${what.slice(0, 300)}, not a ConfigError`, { cause: error });
    }
  }
  expect(performance.now() - started, 'loading time (ms)').toBeLessThan(LOAD_TIME_LIMIT_MS);
}

/** Wrong types for any key; deep nesting is left to the text injections, where the YAML parser meets it. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  hostileString,
  hugeString,
  fc.constantFrom(
    null,
    true,
    [],
    {},
    [null],
    ['15s'],
    { type: 'stdout' },
    '15s',
    'stdout',
    'kubelet_summary',
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

const replaceable = [
  'resolution',
  'type',
  'timeout',
  'port',
  'format',
  'nodes',
  'level',
  'path',
  'url',
  'topic',
];

describe('config loader under hostile files', () => {
  it('loads every seed as it is', async () => {
    for (const seed of seeds) await expectLoadsSafely(stringify(seed.document), false);
  });

  it(
    'returns a config or throws a ConfigError, fast, for alias bombs and self-referencing aliases',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...seeds),
          aliasInjection,
          fc.boolean(),
          async (seed, inject, viaFile) => {
            await expectLoadsSafely(injected(stringify(seed.document), inject, undefined), viaFile);
          },
        ),
        fuzzParameters(RUNS / 4),
      );
    },
    fuzzTimeout(RUNS, 1_000),
  );

  it(
    'returns a config or throws a ConfigError, fast, for hostile YAML put into a real file',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...seeds),
          fc.array(injection, { minLength: 1, maxLength: 3 }),
          fc.option(fc.constantFrom(...replaceable), { nil: undefined }),
          fc.boolean(),
          async (seed, injections, replaceKey, viaFile) => {
            let text = stringify(seed.document);
            for (const inject of injections) text = injected(text, inject, replaceKey);
            await expectLoadsSafely(text, viaFile);
          },
        ),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 500),
  );

  it(
    'returns a config or throws a ConfigError for wrong types, unknown and missing keys anywhere',
    async () => {
      const input = fc
        .constantFrom(...seeds)
        .chain((seed) =>
          fc.tuple(
            fc.constant(seed),
            fc.array(jsonMutation(seed.index, wrongType), { minLength: 1, maxLength: 4 }),
          ),
        );
      await fc.assert(
        fc.asyncProperty(input, async ([seed, mutations]) => {
          // Through JSON, which is YAML too (flow style), so every mutation survives the round trip.
          const data: unknown = JSON.parse(mutatedJsonText(seed.document, mutations));
          await expectLoadsSafely(stringify(data), false);
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 300),
  );
});
