import { resolve } from 'node:path';
import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSink, defineSource } from '../component/component.js';
import { ConfigError } from '../component/errors.js';
import { Registry } from '../component/registry.js';
import { parsePipelineConfig } from './load.js';
import { DEFAULT_DISK_BUFFER_MAX_SIZE, DEFAULT_DISK_BUFFER_MEMORY_WINDOW } from './sink-options.js';

const registry = new Registry().register(
  defineSource({
    type: 'fake_source',
    description: 'A source.',
    config: z.strictObject({}),
    create: () => EMPTY,
  }),
  defineSink({
    type: 'fake_sink',
    description: 'A sink.',
    config: z.strictObject({}),
    create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
  }),
);

function parse(sinks: string, top = ''): ReturnType<typeof parsePipelineConfig> {
  return parsePipelineConfig(
    `source: { type: fake_source }\n${top}sinks:\n${sinks}`,
    'pipeline.yaml',
    registry,
    {},
  );
}

function problemsOf(sinks: string, top = ''): readonly string[] {
  try {
    parse(sinks, top);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('buffer', () => {
  it('is a memory queue with today’s keys when absent', () => {
    const [sink] = parse('  a: { type: fake_sink }\n').sinks;
    expect(sink?.options.buffer).toEqual({
      max_batches: 1000,
      max_bytes: 64 * 1024 * 1024,
      when_full: 'block',
    });
  });

  it('takes type: disk with its defaults: 256 MiB, every_batch, a 1 s interval, a 32 MiB memory window, no path (under data_dir)', () => {
    const [sink] = parse('  a: { type: fake_sink, buffer: { type: disk } }\n').sinks;
    expect(sink?.options.buffer).toEqual({
      type: 'disk',
      max_size: DEFAULT_DISK_BUFFER_MAX_SIZE,
      when_full: 'block',
      sync: 'every_batch',
      sync_interval: 1000,
      memory_window: DEFAULT_DISK_BUFFER_MEMORY_WINDOW,
    });
  });

  it('refuses the keys of the other buffer type, each where it is', () => {
    const line = '  a: { type: fake_sink, buffer: { type: disk, max_batches: 5 } }';
    expect(problemsOf(`${line}\n`)).toEqual([
      `pipeline.yaml:3:${line.indexOf('max_batches') + 1} sinks.a.buffer.max_batches: unknown key`,
    ]);
    expect(problemsOf('  a: { type: fake_sink, buffer: { max_size: 5000000 } }\n')).toEqual([
      'pipeline.yaml:3:35 sinks.a.buffer.max_size: unknown key',
    ]);
    expect(problemsOf('  a: { type: fake_sink, buffer: { type: disk, sync: every_cycle } }\n')[0]).toMatch(
      /^pipeline\.yaml:3:\d+ sinks\.a\.buffer\.sync: expected one of "every_batch", "interval"/,
    );
  });

  it('takes a memory_window of 0 or more bytes, refusing a negative one where it is', () => {
    const [sink] = parse('  a: { type: fake_sink, buffer: { type: disk, memory_window: 0 } }\n').sinks;
    expect(sink?.options.buffer).toMatchObject({ type: 'disk', memory_window: 0 });
    const line = '  a: { type: fake_sink, buffer: { type: disk, memory_window: -1 } }';
    expect(problemsOf(`${line}\n`)[0]).toMatch(
      new RegExp(`^pipeline\\.yaml:3:${line.indexOf('-1') + 1} sinks\\.a\\.buffer\\.memory_window: `),
    );
  });

  it('refuses a max_size under 1 MiB and a sync_interval that is not a duration', () => {
    expect(problemsOf('  a: { type: fake_sink, buffer: { type: disk, max_size: 1000 } }\n')[0]).toMatch(
      /sinks\.a\.buffer\.max_size: /,
    );
    expect(problemsOf('  a: { type: fake_sink, buffer: { type: disk, sync_interval: soon } }\n')[0]).toMatch(
      /sinks\.a\.buffer\.sync_interval: "soon" is not a duration/,
    );
  });

  it('refuses two sinks sharing a buffer directory, by path or by default, and nested ones', () => {
    const dataDir = resolve('heapstream-data');
    const second = '  b: { type: fake_sink, buffer: { type: disk, path: q } }';
    expect(problemsOf(`  a: { type: fake_sink, buffer: { type: disk, path: ./q } }\n${second}\n`)).toEqual([
      `pipeline.yaml:4:${second.indexOf(' q ') + 2} sinks.b.buffer.path: the disk buffer ${resolve('q')} is the same directory as sink a's (${resolve('q')}); give each sink its own buffer.path`,
    ]);
    expect(
      problemsOf(
        '  a: { type: fake_sink, buffer: { type: disk } }\n' +
          '  b: { type: fake_sink, buffer: { type: disk, path: ./heapstream-data/buffer } }\n',
      )[0],
    ).toContain(`the disk buffer ${dataDir}/buffer is a directory overlapping that of sink a's`);
  });

  it('gives each sink its own default directory under data_dir', () => {
    const config = parse(
      '  a: { type: fake_sink, buffer: { type: disk } }\n  b: { type: fake_sink, buffer: { type: disk } }\n',
      'data_dir: /var/lib/heapstream\n',
    );
    expect(config.sinks.map((s) => s.name)).toEqual(['a', 'b']);
  });
});
