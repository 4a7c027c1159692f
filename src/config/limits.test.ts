import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSink, defineSource } from '../component/component.js';
import { Registry } from '../component/registry.js';
import { ConfigError } from '../component/errors.js';
import { duration } from '../component/duration.js';
import { MAX_CONFIG_BYTES } from './limits.js';
import { loadPipelineConfig, loadPipelineConfigText, parsePipelineConfig } from './load.js';
import { createBuiltinRegistry } from '../builtins.js';

const source = defineSource({
  type: 'fake_source',
  description: 'A source for tests.',
  config: z.strictObject({
    timeout: duration().default(5000),
    nodes: z.array(z.string()).default([]),
  }),
  create: () => EMPTY,
});

const sink = defineSink({
  type: 'fake_sink',
  description: 'A sink for tests.',
  config: z.strictObject({ database: z.string().optional(), retention: duration({ max: 1e15 }).optional() }),
  create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
});

const registry = new Registry().register(source, sink);

const SINKS = 'sinks:\n  out: { type: fake_sink }\n';

function problemsOf(text: string): readonly string[] {
  try {
    parsePipelineConfig(text, 'pipeline.yaml', registry, {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

/** Ten anchors, each a list of ten aliases to the previous one: 10^10 values once expanded. */
function billionLaughs(): string {
  const lines = ['  a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `source: { type: fake_source }\n${SINKS}lol:\n${lines.join('\n')}\n`;
}

describe('YAML aliases', () => {
  it('refuses a billion-laughs file at once, at the alias that went past the limit', () => {
    const started = Date.now();
    const problems = problemsOf(billionLaughs());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(problems).toEqual([
      'pipeline.yaml:4:1 lol: unknown key (did you mean "log"?)',
      'pipeline.yaml:8:47 lol.a3[7]: alias *a2 expands past the limit of 10,000 values that aliases may add to ' +
        'a file (aliases inside it count too)',
    ]);
  });

  it('reports an alias inside the value it names at the alias, with its path, instead of overflowing the stack', () => {
    expect(problemsOf(`source:\n  type: fake_source\n  nodes: &a [x, *a]\n${SINKS}`)).toEqual([
      'pipeline.yaml:3:17 source.nodes[1]: alias *a is inside the value it names (&a at 3:13), so it would never end',
    ]);
    // Deeper: the alias sits in a mapping inside the anchored one.
    expect(problemsOf(`source: &s\n  type: fake_source\n  nodes: [{ again: *s }]\n${SINKS}`)).toContain(
      'pipeline.yaml:3:20 source.nodes[0].again: alias *s is inside the value it names (&s at 2:3), so it ' +
        'would never end',
    );
  });

  it('reports an alias with no anchor before it, rather than reading it as null', () => {
    expect(problemsOf(`source:\n  type: fake_source\n  nodes: *later\n${SINKS}`)).toEqual([
      'pipeline.yaml:3:10 source.nodes: alias *later has no anchor &later before it',
    ]);
  });

  it('still expands aliases used a few times, each where it is used', () => {
    const config = parsePipelineConfig(
      `source: { type: fake_source, nodes: &nodes [a, b, c] }
sinks:
  one: { type: fake_sink, database: &db k8s }
  two: { type: fake_sink, database: *db }
  three: { type: fake_sink, database: *db }
`,
      'pipeline.yaml',
      registry,
      {},
    );
    expect(config.source.config.nodes).toEqual(['a', 'b', 'c']);
    expect(config.sinks.map((s) => s.config.database)).toEqual(['k8s', 'k8s', 'k8s']);
  });
});

describe('durations', () => {
  it('accepts a resolution from 1s to 1h and says so otherwise', () => {
    const at = (resolution: string) => `resolution: ${resolution}\nsource: { type: fake_source }\n${SINKS}`;
    expect(parsePipelineConfig(at('1s'), 'p.yaml', registry, {}).resolutionMs).toBe(1000);
    expect(parsePipelineConfig(at('1h'), 'p.yaml', registry, {}).resolutionMs).toBe(3_600_000);
    expect(problemsOf(at('720h'))).toEqual([
      'pipeline.yaml:1:13 resolution: "720h" is out of range: use 1s to 1h',
    ]);
    expect(problemsOf(at('61m'))).toEqual([
      'pipeline.yaml:1:13 resolution: "61m" is out of range: use 1s to 1h',
    ]);
    expect(problemsOf(at('999ms'))).toEqual([
      'pipeline.yaml:1:13 resolution: "999ms" is out of range: use 1s to 1h',
    ]);
  });

  it('refuses a duration that a timer cannot wait for, where a timer would fire at once in a loop', () => {
    const at = (timeout: string) => `source: { type: fake_source, timeout: ${timeout} }\n${SINKS}`;
    expect(parsePipelineConfig(at('596h'), 'p.yaml', registry, {}).source.config.timeout).toBe(2_145_600_000);
    expect(problemsOf(at('597h'))).toEqual([
      'pipeline.yaml:1:39 source.timeout: "597h" is too long: at most 2^31−1 ms (about 24.8 days), the longest a timer can wait',
    ]);
    // So many digits that the number is Infinity.
    expect(problemsOf(at(`${'9'.repeat(400)}ms`))[0]).toMatch(/source\.timeout: "9+ms" is not a duration/);
  });

  it('checks the sink runner’s timers, while a key no timer waits for (a retention age) may be longer', () => {
    const problems = problemsOf(`source: { type: fake_source }
sinks:
  out:
    type: fake_sink
    retention: 8760h
    retry: { initial_backoff: 1000h, max_backoff: 1000h }
    write_timeout: 1000h
    shutdown_timeout: 1000h
`);
    expect(problems.map((p) => p.split(': ')[0])).toEqual([
      'pipeline.yaml:6:31 sinks.out.retry.initial_backoff',
      'pipeline.yaml:6:51 sinks.out.retry.max_backoff',
      'pipeline.yaml:7:20 sinks.out.write_timeout',
      'pipeline.yaml:8:23 sinks.out.shutdown_timeout',
    ]);
  });
});

describe('file size', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const hugeText = (bytes: number) => `source: { type: fake_source }\n${SINKS}big: "${'x'.repeat(bytes)}"\n`;

  it('refuses a file over 1 MiB before parsing it, naming the file and the limit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-limits-'));
    const path = join(dir, 'pipeline.yaml');
    const text = hugeText(50 * 1024 * 1024);
    writeFileSync(path, text);
    const started = Date.now();
    const message =
      `${path}: the file is ${Buffer.byteLength(text).toLocaleString('en-US')} bytes, larger than 1 MiB ` +
      '(1,048,576 bytes), the most a pipeline file may hold (a pipeline file is a few KB: is this the right file?)';
    await expect(loadPipelineConfig(path, registry, {})).rejects.toThrow(new ConfigError([message]));
    expect(Date.now() - started).toBeLessThan(1000);
    // The same text handed over directly is refused the same way.
    expect(() => parsePipelineConfig(text, path, registry, {})).toThrow(message);
  });

  it('reads a file that never ends (a device, a pipe) only up to the limit', async () => {
    await expect(loadPipelineConfig('/dev/zero', registry, {})).rejects.toThrow(
      '/dev/zero: the file is larger than 1 MiB (1,048,576 bytes), the most a pipeline file may hold',
    );
  });

  it('accepts a file just under the limit', () => {
    const text = hugeText(0);
    const padded = text + '#'.repeat(MAX_CONFIG_BYTES - Buffer.byteLength(text) - 1) + '\n';
    expect(Buffer.byteLength(padded)).toBe(MAX_CONFIG_BYTES);
    expect(problemsOf(padded)).toEqual(['pipeline.yaml:4:1 big: unknown key']);
  });
});

describe('YAML nested deeper than the parser can recurse', () => {
  // `- - - …` nests one block sequence per two bytes: 5,000 levels in 10 KB, far under the size limit; with a
  // duplicate key the parser reports its own overflow and then our walk overflows too (what fuzzing found). The
  // built-in registry, so that the plugin pre-pass (which walks the document for `custom` processors) runs too.
  const deep = `resolution: 15s\nsource: { type: kubelet_summary, discovery: { static: [] } }\nsinks: { out: { type: stdout } }\nx:\n  ${'- '.repeat(5_000)}v\nresolution: 20s\n`;
  const builtins = createBuiltinRegistry();
  const deeplyNested = /^p\.yaml(:\d+:\d+)?:? .*(nested too deeply|Maximum call stack size exceeded)/;

  it('is a problem with the file, not a RangeError, when parsed', () => {
    // Where the stack runs out decides who notices first: the YAML parser (a syntax error at a position) or ours.
    expect(() => parsePipelineConfig(deep, 'p.yaml', builtins, {})).toThrow(ConfigError);
    expect(() => parsePipelineConfig(deep, 'p.yaml', builtins, {})).toThrow(deeplyNested);
  });

  it('is a problem with the file when loaded with its plugins', async () => {
    await expect(loadPipelineConfigText(deep, 'p.yaml', builtins, {})).rejects.toThrow(deeplyNested);
  });
});
