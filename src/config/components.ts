import { z } from 'zod';
import type { ComponentDefinition, SinkDefinition } from '../component/component.js';
import type { Registry } from '../component/registry.js';
import { sinkRunnerOptionsSchema, type SinkRunnerOptions } from './sink-options.js';
import { configErrorMap, issuesToProblems, MISSING_KEY } from './issues.js';
import type { YamlLocator } from './positions.js';
import { processorOptionsSchema, type ProcessorOptions } from './processor-options.js';
import { formatPath, type PathSegment, type Problem } from './problems.js';
import { removedTypeHint } from './removed-types.js';
import { didYouMean } from './suggest.js';
import type { ComponentEntry, ProcessorEntry, SinkEntry } from './types.js';
import { reportUnknownKeys, unknownKeyReporter } from './unknown-keys.js';

type Kind = ComponentDefinition['kind'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An entry's keys split into the engine's (those of `shape`) and the definition's own. Split rather than merged
 * schemas, so a definition's own refinements still run on its keys.
 */
function split(
  entry: Record<string, unknown>,
  shape: z.ZodRawShape,
): [engine: Record<string, unknown>, own: Record<string, unknown>] {
  const engine: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (Object.hasOwn(shape, key)) engine[key] = value;
    else own[key] = value;
  }
  return [engine, own];
}

/** Validates component entries against the registry, collecting every problem instead of stopping at one. */
export class ComponentResolver {
  constructor(
    private readonly registry: Registry,
    private readonly locator: YamlLocator,
    private readonly problems: Problem[],
    private readonly meantKeys: Set<string>,
  ) {}

  /**
   * The source entry, or undefined when it has problems (already recorded). Its `name:` is the engine's key
   * (component-ids.ts made `id` from it), not the definition's.
   */
  source(data: unknown, path: PathSegment[], id: string): ComponentEntry | undefined {
    const found = this.definition('source', data, path);
    if (found === undefined) return undefined;
    const { def } = found;
    const { name: _name, ...rest } = found.rest;
    const checked = this.reportUnknownKeys(data, { ...def.config.shape, name: z.unknown() }, path);
    const config = this.parse(def.config, rest, path, checked);
    if (config === undefined) return undefined;
    return { type: def.type, id, path: formatPath(path), config };
  }

  /** A processor entry: the definition's keys and the engine's processor keys (`on_error`) side by side. */
  processor(data: unknown, path: PathSegment[], id: string): ProcessorEntry | undefined {
    const found = this.definition('processor', data, path);
    if (found === undefined) return undefined;
    const { def } = found;
    const { name: _name, ...rest } = found.rest;
    const optionShape = processorOptionsSchema.shape;
    const checked = this.reportUnknownKeys(
      data,
      { ...def.config.shape, ...optionShape, name: z.unknown() },
      path,
    );
    const [optionPart, ownPart] = split(rest, optionShape);
    const options = this.parse(processorOptionsSchema, optionPart, path, checked) as
      ProcessorOptions | undefined;
    const config = this.parse(def.config, ownPart, path, checked);
    if (options === undefined || config === undefined) return undefined;
    return { type: def.type, id, path: formatPath(path), options, config };
  }

  /** A sink entry: the definition's keys and the sink runner's keys are validated side by side. */
  sink(name: string, data: unknown, path: PathSegment[]): SinkEntry | undefined {
    const found = this.definition('sink', data, path);
    if (found === undefined) return undefined;
    const { def, rest } = found;
    const runnerShape = sinkRunnerOptionsSchema.shape;
    const checked = this.reportUnknownKeys(data, { ...def.config.shape, ...runnerShape }, path);
    const [runnerPart, ownPart] = split(rest, runnerShape);
    const defaults = (def as SinkDefinition).runnerDefaults;
    if (runnerPart.max_in_flight === undefined && defaults?.max_in_flight !== undefined) {
      runnerPart.max_in_flight = defaults.max_in_flight;
    }
    if (runnerPart.select === undefined && defaults?.select !== undefined) {
      runnerPart.select = { ...defaults.select };
    }
    const options = this.parse(sinkRunnerOptionsSchema, runnerPart, path, checked) as
      SinkRunnerOptions | undefined;
    const config = this.parse(def.config, ownPart, path, checked);
    if (options === undefined || config === undefined) return undefined;
    return { name, type: def.type, path: formatPath(path), options, config };
  }

  private definition<K extends Kind>(
    kind: K,
    data: unknown,
    path: PathSegment[],
  ): { def: ComponentDefinition; rest: Record<string, unknown> } | undefined {
    if (!isPlainObject(data)) return undefined; // the top-level pass has reported it
    const { type, ...rest } = data;
    const typePath = [...path, 'type'];
    if (type === undefined) {
      this.problems.push(this.locator.problemAtValue(typePath, MISSING_KEY));
      return undefined;
    }
    if (typeof type !== 'string') {
      this.problems.push(this.locator.problemAtValue(typePath, `expected the name of a ${kind} type`));
      return undefined;
    }
    const def = this.registry.get(kind, type);
    if (def === undefined) {
      const known = this.registry.types(kind);
      const list =
        known.length === 0 ? `no ${kind} types are registered` : `known types: ${known.join(', ')}`;
      this.problems.push(
        this.locator.problemAtValue(
          typePath,
          removedTypeHint(kind, type) ?? `unknown ${kind} type "${type}"${didYouMean(type, known)}; ${list}`,
        ),
      );
      return undefined;
    }
    return { def, rest };
  }

  private reportUnknownKeys(data: unknown, shape: z.ZodRawShape, path: PathSegment[]): Set<string> {
    // Only for the walk: the definition's schema itself is what validates.
    const walkSchema = z.strictObject({ type: z.string(), ...shape });
    return reportUnknownKeys(
      data,
      walkSchema,
      path,
      unknownKeyReporter(this.locator, this.problems, this.meantKeys),
    );
  }

  private parse(
    schema: z.ZodType,
    data: Record<string, unknown>,
    path: PathSegment[],
    checked: ReadonlySet<string>,
  ): Record<string, unknown> | undefined {
    const result = schema.safeParse(data, { error: configErrorMap });
    if (result.success) return result.data as Record<string, unknown>;
    this.problems.push(
      ...issuesToProblems(result.error.issues, path, {
        locator: this.locator,
        checkedObjects: checked,
        meantKeys: this.meantKeys,
      }),
    );
    return undefined;
  }
}
