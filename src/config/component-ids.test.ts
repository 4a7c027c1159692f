import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineProcessor, defineSink, defineSource } from '../component/component.js';
import { ConfigError } from '../component/errors.js';
import { Registry } from '../component/registry.js';
import { pipelineJsonSchema } from './json-schema.js';
import { parsePipelineConfig } from './load.js';

const registry = new Registry().register(
  defineSource({
    type: 'fake_source',
    description: 'A source for tests.',
    config: z.strictObject({ nodes: z.number().default(1) }),
    create: () => EMPTY,
  }),
  defineProcessor({
    type: 'rate',
    description: 'A processor for tests.',
    config: z.strictObject({ max_gap: z.number().optional() }),
    create: () => (events) => events,
  }),
  defineProcessor({
    type: 'filter',
    description: 'Another processor for tests.',
    config: z.strictObject({}),
    create: () => (events) => events,
  }),
  defineSink({
    type: 'fake_sink',
    description: 'A sink for tests.',
    config: z.strictObject({}),
    create: () => ({ write: () => Promise.resolve(), close: () => Promise.resolve() }),
  }),
);

function parse(source: string, processors: string[]) {
  const text = [`source: ${source}`, 'processors:', ...processors, 'sinks:', '  lake: { type: fake_sink }'];
  return parsePipelineConfig(text.join('\n') + '\n', 'pipeline.yaml', registry, {});
}

function problemsOf(processors: string[], source = '{ type: fake_source }'): readonly string[] {
  try {
    parse(source, processors);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('component ids', () => {
  it('are the type, the given name, or type#n for a repeated unnamed type', () => {
    const config = parse('{ type: fake_source }', [
      '  - { type: rate }',
      '  - { type: filter, name: no_kube_system }',
      '  - { type: rate, max_gap: 3 }',
      '  - { type: filter }',
      '  - { type: rate }',
    ]);
    expect(config.source.id).toBe('fake_source');
    expect(config.processors.map((p) => p.id)).toEqual([
      'rate',
      'no_kube_system',
      'rate#2',
      'filter',
      'rate#3',
    ]);
    // `name` is the engine's key: the definition never sees it.
    expect(config.processors[1]?.config).toEqual({});
    expect(config.processors[2]?.config).toEqual({ max_gap: 3 });
  });

  it('leave an id that a given name already holds to that name', () => {
    const config = parse('{ type: fake_source, name: cluster_a }', [
      '  - { type: rate }',
      '  - { type: filter, name: rate }',
    ]);
    expect(config.source.id).toBe('cluster_a');
    expect(config.processors.map((p) => p.id)).toEqual(['rate#2', 'rate']);
  });

  it('do not move when a processor is inserted above', () => {
    const ids = (processors: string[]) =>
      parse('{ type: fake_source }', processors).processors.map((p) => p.id);
    const before = ids(['  - { type: rate }', '  - { type: filter, name: late }']);
    const after = ids(['  - { type: filter }', '  - { type: rate }', '  - { type: filter, name: late }']);
    expect(after.slice(1)).toEqual(before);
  });

  it('reject a duplicate or malformed name at its position, with every other problem', () => {
    expect(
      problemsOf(
        [
          '  - { type: rate, name: step }',
          '  - { type: filter, name: step }',
          '  - { type: rate, name: Not-Snake }',
          '  - { type: rate, name: 7 }',
          '  - { type: rate, nmae: x }',
        ],
        '{ type: fake_source, name: "a b" }',
      ),
    ).toEqual([
      'pipeline.yaml:1:36 source.name: names are snake_case: a-z first, then a-z, 0-9 and "_"',
      'pipeline.yaml:4:27 processors[1].name: "step" is already the name of processors[0]; processor names must be unique',
      'pipeline.yaml:5:25 processors[2].name: names are snake_case: a-z first, then a-z, 0-9 and "_"',
      'pipeline.yaml:6:25 processors[3].name: expected a string, got number 7',
      'pipeline.yaml:7:19 processors[4].nmae: unknown key (did you mean "name"?)',
    ]);
  });

  it('appear in the JSON Schema as `name` of sources and processors, not of sinks', () => {
    const schema = pipelineJsonSchema(registry) as {
      properties: Record<
        string,
        { oneOf?: { properties: Record<string, unknown> }[] } & Record<string, unknown>
      >;
    };
    const processor = (schema.properties.processors as { items: { oneOf: { properties: object }[] } }).items
      .oneOf[0];
    expect(processor?.properties).toHaveProperty('name.pattern', '^[a-z][a-z0-9_]*$');
    expect(schema.properties.source?.oneOf?.[0]?.properties).toHaveProperty('name');
    const sink = (schema.properties.sinks as { additionalProperties: { oneOf: { properties: object }[] } })
      .additionalProperties.oneOf[0];
    expect(sink?.properties).not.toHaveProperty('name');
  });
});
