import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineProcessor, defineSink, defineSource } from '../component/component.js';
import { Registry } from '../component/registry.js';
import { duration } from '../component/duration.js';
import { pipelineJsonSchema } from './json-schema.js';

const registry = new Registry().register(
  defineSource({
    type: 'fake_source',
    description: 'Fake nodes.',
    config: z.strictObject({
      nodes: z.number().describe('How many nodes.'),
      timeout: duration().default(5000),
    }),
    create: () => EMPTY,
  }),
  defineProcessor({
    type: 'fake_aggregate',
    description: 'Aggregates.',
    config: z.strictObject({ levels: z.array(z.enum(['pod', 'cluster'])).default(['pod']) }),
    create: () => (events) => events,
  }),
  defineProcessor({
    type: 'fake_rate',
    description: 'Rates.',
    config: z.strictObject({}),
    create: () => (events) => events,
  }),
  defineSink({
    type: 'fake_influx',
    description: 'Writes to InfluxDB.',
    config: z.strictObject({ database: z.string() }),
    create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
  }),
);

/** The value at a path inside parsed JSON, without trusting its shape. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const segment of path) {
    current =
      typeof current === 'object' && current !== null
        ? (current as Record<string, unknown>)[segment]
        : undefined;
  }
  return current;
}

describe('pipelineJsonSchema', () => {
  const schema = JSON.parse(JSON.stringify(pipelineJsonSchema(registry))) as unknown;

  it('is draft 2020-12 JSON with a title and strict top level', () => {
    expect(at(schema, '$schema')).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(at(schema, 'title')).toBe('heapstream pipeline');
    expect(at(schema, 'type')).toBe('object');
    expect(at(schema, 'additionalProperties')).toBe(false);
    expect(at(schema, 'required')).toEqual(['source', 'sinks']);
    expect(Object.keys(at(schema, 'properties') as object)).toEqual([
      'resolution',
      'cluster_name',
      'workers',
      'plugins',
      'source',
      'processors',
      'sinks',
      'server',
      'log',
      'data_dir',
    ]);
  });

  it('shows durations as strings, with their defaults as written', () => {
    expect(at(schema, 'properties', 'resolution')).toMatchObject({ type: 'string', default: '15s' });
    expect(at(schema, 'properties', 'source', 'oneOf', 0, 'properties', 'timeout', 'type')).toBe('string');
  });

  it('offers each registered source and processor as a oneOf member discriminated by a type const', () => {
    const source = at(schema, 'properties', 'source', 'oneOf') as unknown[];
    expect(source).toHaveLength(1);
    expect(source[0]).toMatchObject({
      title: 'fake_source',
      description: 'Fake nodes.',
      additionalProperties: false,
      required: ['type', 'nodes'],
    });
    expect(at(source, 0, 'properties', 'type', 'const')).toBe('fake_source');
    expect(at(source, 0, 'properties', 'nodes')).toEqual({ type: 'number', description: 'How many nodes.' });
    const processors = at(schema, 'properties', 'processors', 'items', 'oneOf') as unknown[];
    expect(processors.map((member) => at(member, 'properties', 'type', 'const'))).toEqual([
      'fake_aggregate',
      'fake_rate',
    ]);
    expect(at(processors, 0, 'properties', 'levels', 'items', 'enum')).toEqual(['pod', 'cluster']);
  });

  it('describes sinks as a map of names to members holding the sink’s keys and the runner’s', () => {
    const sinks = at(schema, 'properties', 'sinks');
    expect(at(sinks, 'propertyNames', 'pattern')).toBe('^[a-z0-9_-]+$');
    const member = at(sinks, 'additionalProperties', 'oneOf', 0);
    expect(at(member, 'properties', 'type', 'const')).toBe('fake_influx');
    expect(Object.keys(at(member, 'properties') as object)).toEqual(
      expect.arrayContaining(['database', 'select', 'buffer', 'retry', 'max_in_flight', 'write_timeout']),
    );
    // buffer is one of its types: memory (the default, `type` optional) or disk, both with when_full.
    const buffers = at(member, 'properties', 'buffer', 'oneOf') as unknown[];
    expect(buffers.map((b) => at(b, 'properties', 'type', 'const'))).toEqual(['memory', 'disk']);
    expect(at(buffers, 1, 'required')).toEqual(['type']);
    for (const buffer of buffers) {
      expect(at(buffer, 'properties', 'when_full', 'enum')).toEqual(['block', 'drop_oldest', 'drop_newest']);
    }
    expect(at(member, 'required')).toEqual(['type', 'database']);
  });

  it('still exports a schema when a kind has no registered types', () => {
    const empty = pipelineJsonSchema(new Registry());
    expect(empty.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(at(empty, 'properties', 'source')).toBeDefined();
  });
});
