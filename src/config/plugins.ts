import { LineCounter, parseDocument } from 'yaml';
import { resolve } from 'node:path';
import { importProcessorPlugin, isPathSpecifier } from './load-plugin.js';
import type { ProcessorDefinition } from '../component/component.js';
import type { Registry } from '../component/registry.js';
import type { Env } from './env.js';
import { PLUGIN_IMPORT_TIMEOUT_MS } from './limits.js';
import { YamlLocator } from './positions.js';
import type { Problem } from './problems.js';
import { yamlToData } from './yaml-data.js';
import { isPlainObject } from '../model/plain-object.js';

/** The processor type whose entries name a plugin module, imported before validation. */
export const CUSTOM_PROCESSOR_TYPE = 'custom';

/** The default of a custom entry's `export:` key. */
export const DEFAULT_PLUGIN_EXPORT = 'default';

/** One imported plugin, or why it could not be used (shown at the entry's `module:` key). */
export type PluginResult =
  | { readonly definition: ProcessorDefinition }
  | { readonly problem: string; readonly at?: 'module' | 'export' };

/**
 * Plugins imported ahead of validation, by the `module:` and `export:` values as written. `loadPipelineConfig`
 * fills it; embedders and tests may fill it themselves and hand it to the synchronous `parsePipelineConfig`.
 *
 * @example
 * const plugins = new PreloadedPlugins().add('./top-pods.ts', topPods);
 * parsePipelineConfig(text, 'pipeline.yaml', registry, process.env, { plugins });
 */
export class PreloadedPlugins {
  private readonly results = new Map<string, PluginResult>();

  add(module: string, definition: ProcessorDefinition, exportName = DEFAULT_PLUGIN_EXPORT): this {
    return this.set(module, exportName, { definition });
  }

  set(module: string, exportName: string, result: PluginResult): this {
    this.results.set(`${exportName}\u0000${module}`, result);
    return this;
  }

  get(module: string, exportName: string): PluginResult | undefined {
    return this.results.get(`${exportName}\u0000${module}`);
  }

  get size(): number {
    return this.results.size;
  }
}

/** Imports one plugin: the default is `importProcessorPlugin`; tests substitute their own. */
export type PluginImporter = (
  module: string,
  exportName: string,
  baseDir: string,
) => Promise<ProcessorDefinition>;

interface PluginRef {
  readonly module: string;
  readonly exportName: string;
}

/** The (module, export) pairs of the `custom` processors in a config's data, each once. */
export function pluginRefs(data: unknown): PluginRef[] {
  const refs = new Map<string, PluginRef>();
  const processors = isPlainObject(data) ? data.processors : undefined;
  if (!Array.isArray(processors)) return [];
  for (const entry of processors) {
    if (!isPlainObject(entry) || entry.type !== CUSTOM_PROCESSOR_TYPE) continue;
    const { module, export: exportName = DEFAULT_PLUGIN_EXPORT } = entry;
    // Malformed keys are left to validation, which reports them with positions.
    if (typeof module !== 'string' || module === '' || typeof exportName !== 'string') continue;
    refs.set(`${exportName}\u0000${module}`, { module, exportName });
  }
  return [...refs.values()];
}

/** Why a plugin import was given up: it has not finished (its top-level code still runs) within the limit. */
function timeoutProblem(module: string, baseDir: string, timeoutMs: number): string {
  const file = isPathSpecifier(module) && !module.startsWith('file:') ? ` (${resolve(baseDir, module)})` : '';
  return (
    `module "${module}"${file} did not finish loading within ${timeoutMs / 1000}s: ` +
    'its top-level code is still running (an await that never settles?)'
  );
}

/**
 * Imports one plugin, giving up after `timeoutMs`. The pending timer also keeps Node.js from ending the process
 * with exit code 13 ("unsettled top-level await") and no message when a plugin's top-level await never settles.
 */
async function importWithin(
  importer: PluginImporter,
  ref: PluginRef,
  baseDir: string,
  timeoutMs: number,
): Promise<ProcessorDefinition> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutProblem(ref.module, baseDir, timeoutMs))), timeoutMs);
  });
  try {
    return await Promise.race([importer(ref.module, ref.exportName, baseDir), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports every plugin the `custom` processors of a pipeline text name, resolving paths against `baseDir`.
 * Never throws for a plugin: a module that is missing, fails to load, or exports no processor definition becomes
 * a result that validation reports at its `module:` key, alongside every other problem of the file. An import
 * that takes longer than `timeoutMs` (PLUGIN_IMPORT_TIMEOUT_MS by default) is given up the same way.
 *
 * @example
 * const plugins = await preloadPlugins(text, dirname(resolve(file)), registry);
 */
export async function preloadPlugins(
  text: string,
  baseDir: string,
  registry: Registry,
  env: Env = process.env,
  importer: PluginImporter = importProcessorPlugin,
  timeoutMs: number = PLUGIN_IMPORT_TIMEOUT_MS,
): Promise<PreloadedPlugins> {
  const plugins = new PreloadedPlugins();
  if (registry.get('processor', CUSTOM_PROCESSOR_TYPE) === undefined) return plugins;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) return plugins; // parsing reports them
  const ignored: Problem[] = []; // the same problems are found and reported again by parsing
  const data = yamlToData(doc, new YamlLocator(doc, lineCounter), env, ignored);
  // One after the other: plugins may register loaders or read shared files as they load.
  for (const ref of pluginRefs(data)) {
    const { module, exportName } = ref;
    try {
      plugins.set(module, exportName, { definition: await importWithin(importer, ref, baseDir, timeoutMs) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const at = (error as { at?: unknown }).at === 'export' ? 'export' : 'module';
      plugins.set(module, exportName, { problem: message, at });
    }
  }
  return plugins;
}
