import { z } from 'zod';
import type { ComponentDefinition, SinkDefinition } from '../component/component.js';
import type { Registry } from '../component/registry.js';
import { componentNameSchema } from './component-ids.js';
import { processorOptionsSchema } from './processor-options.js';
import { sinkRunnerOptionsSchema } from './sink-options.js';
import { pipelineFileSchema } from './schema.js';

type Kind = ComponentDefinition['kind'];

/** The runner's keys as this sink sees them: its own defaults for `max_in_flight` and `select`, if it has them. */
function runnerShapeFor(def: SinkDefinition) {
  const shape = sinkRunnerOptionsSchema.shape;
  const inFlight = def.runnerDefaults?.max_in_flight;
  const select = def.runnerDefaults?.select;
  return {
    ...shape,
    ...(inFlight === undefined ? {} : { max_in_flight: shape.max_in_flight.unwrap().default(inFlight) }),
    ...(select === undefined
      ? {}
      : { select: shape.select.unwrap().default({ ...select, types: select.types && [...select.types] }) }),
  };
}

/** The keys the engine adds to every entry of a kind: the sink runner's, the processors' `on_error`. */
function engineShapeFor(kind: Kind, def: ComponentDefinition) {
  if (kind === 'sink') return runnerShapeFor(def as SinkDefinition);
  // A sink's id is its key under `sinks:`; sources and processors may be given one with `name:`.
  const name = { name: componentNameSchema.optional() };
  return kind === 'processor' ? { ...processorOptionsSchema.shape, ...name } : name;
}

/** One member per registered type: `type` pinned to its name, then the definition's keys and the engine's. */
function componentUnion(registry: Registry, kind: Kind): z.ZodType {
  const members = registry.types(kind).map((type) => {
    const def = registry.get(kind, type) as ComponentDefinition;
    const extra = engineShapeFor(kind, def);
    return z
      .strictObject({ type: z.literal(type).describe(def.description), ...def.config.shape, ...extra })
      .meta({ title: type, description: def.description });
  });
  const [first, ...others] = members;
  if (first === undefined) return z.never().describe(`no ${kind} types are registered`);
  // A discriminated union exports as `oneOf`, letting editors pick the member from `type`.
  return z.discriminatedUnion('type', [first, ...others]);
}

/**
 * The JSON Schema (draft 2020-12) of the whole `pipeline.yaml` for this registry, so editors complete and
 * check the file. For a file's plugin types too, pass the registry of `loadPluginRegistry`. Durations appear as strings, as they are written.
 *
 * @example
 * writeFileSync('pipeline.schema.json', JSON.stringify(pipelineJsonSchema(registry), null, 2));
 */
export function pipelineJsonSchema(registry: Registry): Record<string, unknown> {
  const schema = pipelineFileSchema({
    source: componentUnion(registry, 'source'),
    processor: componentUnion(registry, 'processor'),
    sink: componentUnion(registry, 'sink'),
  }).meta({
    title: 'heapstream pipeline',
    description: 'A heapstream pipeline: one source, processors applied in order, and named sinks.',
  });
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...json };
}
