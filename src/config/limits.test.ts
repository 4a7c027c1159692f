import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSink, defineSource } from '../engine/component.js';
import { Registry } from '../engine/registry.js';
import { ConfigError } from '../errors.js';
import { duration } from './duration.js';
import { MAX_CONFIG_BYTES } from './limits.js';
import { loadPipelineConfig, parsePipelineConfig } from './load.js';

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
  config: z.strictObject({ database: z.string().optional(), retention: duration().optional() }),
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
