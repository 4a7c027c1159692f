import { resolve } from 'node:path';
import type { ComponentDefinition } from '../component/component.js';
import type { Registry } from '../component/registry.js';
import { importPlugin, isPathSpecifier } from './load-plugin.js';
import { PLUGIN_IMPORT_TIMEOUT_MS } from './limits.js';
import type { YamlLocator } from './positions.js';
import type { Problem } from './problems.js';
import { processorOptionsSchema } from './processor-options.js';
import { sinkRunnerOptionsSchema } from './sink-options.js';

/** Keys the engine adds to every entry of a kind: a definition declaring one of them would never receive it. */
const ENGINE_KEYS: Record<ComponentDefinition['kind'], readonly string[]> = {
  source: [],
  processor: Object.keys(processorOptionsSchema.shape),
  sink: Object.keys(sinkRunnerOptionsSchema.shape),
};

/** Why a plugin's definition cannot be registered as it is, or undefined when it can. */
function definitionProblem(
  def: ComponentDefinition,
  specifier: string,
  registry: Registry,
): string | undefined {
  if (registry.get(def.kind, def.type) !== undefined) {
    return (
      `${def.kind} type "${def.type}" of "${specifier}" is already a built-in ${def.kind} type; ` +
      'give the plugin another type name'
    );
  }
  const taken = ENGINE_KEYS[def.kind].filter((key) => Object.hasOwn(def.config.shape, key));
  if (taken.length === 0) return undefined;
  return (
    `${def.kind} type "${def.type}" of "${specifier}" declares ${taken.map((k) => `"${k}"`).join(', ')}, ` +
    `which the engine handles on every ${def.kind}; rename ${taken.length === 1 ? 'it' : 'them'} in its schema`
  );
}

/** What one `plugins:` entry gave: the definitions its module exports, or why it could not be used. */
export type PluginResult =
  { readonly definitions: readonly ComponentDefinition[] } | { readonly problem: string };

/**
 * Plugins imported ahead of validation, by their `plugins:` entry as written. `loadPipelineConfig` fills it;
 * embedders and tests may fill it themselves and hand it to the synchronous `parsePipelineConfig`.
 *
 * @example
 * const plugins = new PreloadedPlugins().add('./top-pods.ts', topPods);
 * parsePipelineConfig(text, 'pipeline.yaml', registry, process.env, { plugins });
 */
export class PreloadedPlugins {
  private readonly results = new Map<string, PluginResult>();

  add(specifier: string, ...definitions: readonly ComponentDefinition[]): this {
    return this.set(specifier, { definitions });
  }

  set(specifier: string, result: PluginResult): this {
    this.results.set(specifier, result);
    return this;
  }

  get(specifier: string): PluginResult | undefined {
    return this.results.get(specifier);
  }

  get size(): number {
    return this.results.size;
  }
}

/** Imports one plugin module and returns its definitions: the default is `importPlugin`; tests substitute their own. */
export type PluginImporter = (specifier: string, baseDir: string) => Promise<readonly ComponentDefinition[]>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of a config's top-level `plugins:` list that name a module, each once, in order. */
export function pluginSpecifiers(data: unknown): string[] {
  const list = isPlainObject(data) ? data.plugins : undefined;
  if (!Array.isArray(list)) return [];
  // Malformed entries are left to validation, which reports them with positions.
  const specifiers = list.filter((entry): entry is string => typeof entry === 'string' && entry !== '');
  return [...new Set(specifiers)];
}

/** Why a plugin import was given up: it has not finished (its top-level code still runs) within the limit. */
function timeoutProblem(specifier: string, baseDir: string, timeoutMs: number): string {
  const file =
    isPathSpecifier(specifier) && !specifier.startsWith('file:') ? ` (${resolve(baseDir, specifier)})` : '';
  return (
    `module "${specifier}"${file} did not finish loading within ${timeoutMs / 1000}s: ` +
    'its top-level code is still running (an await that never settles?)'
  );
}

/**
 * Imports one plugin, giving up after `timeoutMs`. The pending timer also keeps Node.js from ending the process
 * with exit code 13 ("unsettled top-level await") and no message when a plugin's top-level await never settles.
 */
async function importWithin(
  importer: PluginImporter,
  specifier: string,
  baseDir: string,
  timeoutMs: number,
): Promise<readonly ComponentDefinition[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutProblem(specifier, baseDir, timeoutMs))), timeoutMs);
  });
  try {
    return await Promise.race([importer(specifier, baseDir), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports the modules of a `plugins:` list, resolving paths against `baseDir`. Never throws for a plugin: a module
 * that is missing, fails to load, or exports no definition becomes a result that validation reports at its entry,
 * alongside every other problem of the file. An import that takes longer than `timeoutMs` (PLUGIN_IMPORT_TIMEOUT_MS
 * by default) is given up the same way. Node.js caches modules: a module imported before (by an earlier load, a
 * reload) is not read again.
 *
 * @example
 * const plugins = await importPlugins(['./top-pods.ts'], dirname(resolve(file)));
 */
export async function importPlugins(
  specifiers: readonly string[],
  baseDir: string,
  importer: PluginImporter = importPlugin,
  timeoutMs: number = PLUGIN_IMPORT_TIMEOUT_MS,
): Promise<PreloadedPlugins> {
  const plugins = new PreloadedPlugins();
  // One after the other: plugins may register loaders or read shared files as they load.
  for (const specifier of specifiers) {
    try {
      plugins.add(specifier, ...(await importWithin(importer, specifier, baseDir, timeoutMs)));
    } catch (error) {
      plugins.set(specifier, { problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return plugins;
}

/** The registry a pipeline is validated and run with, and the definitions its plugins added to the caller's. */
export interface PluginRegistration {
  readonly registry: Registry;
  readonly definitions: readonly ComponentDefinition[];
}

/**
 * Adds the definitions of a config's `plugins:` to a copy of `registry`. A plugin that was not imported or could
 * not be, a type that is already registered (a built-in, or another plugin's), and a definition declaring a key
 * the engine owns (`on_error`, a sink's `buffer`…) is a problem at its entry of `plugins:`; the other definitions are still added, so that entries using them are checked too.
 */
export function registerPlugins(
  registry: Registry,
  data: unknown,
  plugins: PreloadedPlugins,
  locator: YamlLocator,
  problems: Problem[],
): PluginRegistration {
  const list = isPlainObject(data) && Array.isArray(data.plugins) ? (data.plugins as unknown[]) : [];
  const added: ComponentDefinition[] = [];
  const addedBy = new Map<string, { specifier: string; index: number }>();
  const firstIndex = new Map<string, number>();
  list.forEach((specifier, index) => {
    if (typeof specifier !== 'string' || specifier === '') return; // the top-level schema reports it
    const path = ['plugins', index];
    const earlier = firstIndex.get(specifier);
    if (earlier !== undefined) {
      problems.push(
        locator.problemAtValue(path, `"${specifier}" is listed twice (also plugins[${earlier}])`),
      );
      return;
    }
    firstIndex.set(specifier, index);
    const result = plugins.get(specifier);
    if (result === undefined) {
      problems.push(
        locator.problemAtValue(
          path,
          `module "${specifier}" was not imported: parsePipelineConfig cannot import modules; use ` +
            'loadPipelineConfig, or pass it in the `plugins` option',
        ),
      );
      return;
    }
    if ('problem' in result) {
      problems.push(locator.problemAtValue(path, result.problem));
      return;
    }
    for (const def of result.definitions) {
      const key = `${def.kind}\u0000${def.type}`;
      const other = addedBy.get(key);
      const problem = definitionProblem(def, specifier, registry);
      if (problem !== undefined) {
        problems.push(locator.problemAtValue(path, problem));
      } else if (other !== undefined) {
        problems.push(
          locator.problemAtValue(
            path,
            `${def.kind} type "${def.type}" of "${specifier}" is also defined by "${other.specifier}" ` +
              `(plugins[${other.index}]); give one of them another type name`,
          ),
        );
      } else {
        addedBy.set(key, { specifier, index });
        added.push(def);
      }
    }
  });
  return { registry: added.length === 0 ? registry : registry.with(...added), definitions: added };
}
