import { z } from 'zod';
import type { ComponentDefinition, SinkDefinition } from '../component/component.js';
import type { Registry } from '../component/registry.js';
import { sinkRunnerOptionsSchema, type SinkRunnerOptions } from './sink-options.js';
import { configErrorMap, issuesToProblems, MISSING_KEY } from './issues.js';
import type { YamlLocator } from './positions.js';
import { CUSTOM_PROCESSOR_TYPE, type PreloadedPlugins } from './plugins.js';
import { formatPath, type PathSegment, type Problem } from './problems.js';
import { didYouMean } from './suggest.js';
import type { ComponentEntry, SinkEntry } from './types.js';
import { reportUnknownKeys, unknownKeyReporter } from './unknown-keys.js';
import { isPlainObject } from '../model/plain-object.js';

type Kind = ComponentDefinition['kind'];

/** Validates component entries against the registry, collecting every problem instead of stopping at one. */
export class ComponentResolver {
  constructor(
    private readonly registry: Registry,
    private readonly locator: YamlLocator,
    private readonly problems: Problem[],
    private readonly meantKeys: Set<string>,
    /** Plugins of `custom` processors, imported before validation; without them such entries are problems. */
    private readonly plugins?: PreloadedPlugins,
  ) {}

  /**
   * A source or processor entry, or undefined when it has problems (already recorded). Its `name:` is the
   * engine's key (see component-ids.ts, which made `id` from it), not the definition's.
   */
  component(
    kind: 'source' | 'processor',
    data: unknown,
    path: PathSegment[],
    id: string,
  ): ComponentEntry | undefined {
    const found = this.definition(kind, data, path);
    if (found === undefined) return undefined;
    const { def } = found;
    const { name: _name, ...rest } = found.rest;
    const checked = this.reportUnknownKeys(data, { ...def.config.shape, name: z.unknown() }, path);
    const config = this.parse(def.config, rest, path, checked);
    if (config === undefined) return undefined;
    if (kind === 'processor' && def.type === CUSTOM_PROCESSOR_TYPE)
      return this.custom(config, rest, path, id);
    return { type: def.type, id, path: formatPath(path), config };
  }

  /**
   * A `custom` processor: its own keys are valid; now its plugin must have been imported, and its `config:` is
   * validated by the plugin's schema, positioned like any built-in's keys.
   */
  private custom(
    own: Record<string, unknown>,
    written: Record<string, unknown>,
    path: PathSegment[],
    id: string,
  ): ComponentEntry | undefined {
    const module = own.module as string;
    const exportName = own.export as string;
    const result = this.plugins?.get(module, exportName);
    if (result === undefined) {
      this.problems.push(
        this.locator.problemAtValue(
          [...path, 'module'],
          `module "${module}" was not imported: parsePipelineConfig cannot import modules; use ` +
            'loadPipelineConfig, or pass the plugin in `plugins`',
        ),
      );
      return undefined;
    }
    if ('problem' in result) {
      const key = result.at === 'export' && written.export !== undefined ? 'export' : 'module';
      this.problems.push(this.locator.problemAtValue([...path, key], result.problem));
      return undefined;
    }
    const plugin = result.definition;
    const configPath = [...path, 'config'];
    const checked = reportUnknownKeys(
      own.config,
      plugin.config,
      configPath,
      unknownKeyReporter(this.locator, this.problems, this.meantKeys),
    );
    const config = this.parse(plugin.config, own.config as Record<string, unknown>, configPath, checked);
    if (config === undefined) return undefined;
    return { type: CUSTOM_PROCESSOR_TYPE, id, path: formatPath(path), config: { ...own, config, plugin } };
  }

  /** A sink entry: the definition's keys and the sink runner's keys are validated side by side. */
  sink(name: string, data: unknown, path: PathSegment[]): SinkEntry | undefined {
    const found = this.definition('sink', data, path);
    if (found === undefined) return undefined;
    const { def, rest } = found;
    const runnerShape = sinkRunnerOptionsSchema.shape;
    const checked = this.reportUnknownKeys(data, { ...def.config.shape, ...runnerShape }, path);
    // Split rather than merge the schemas, so a definition's own refinements still run on its keys.
    const runnerPart: Record<string, unknown> = {};
    const ownPart: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      if (Object.hasOwn(runnerShape, key)) runnerPart[key] = value;
      else ownPart[key] = value;
    }
    const defaultInFlight = (def as SinkDefinition).runnerDefaults?.max_in_flight;
    if (runnerPart.max_in_flight === undefined && defaultInFlight !== undefined) {
      runnerPart.max_in_flight = defaultInFlight;
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
          `unknown ${kind} type "${type}"${didYouMean(type, known)}; ${list}`,
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
