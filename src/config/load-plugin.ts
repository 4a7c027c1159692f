import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { ComponentDefinition } from '../component/component.js';
import { HeapstreamError } from '../component/errors.js';

/** A plugin module that cannot be used: the message says why, shown at its entry of `plugins:`. */
export class PluginLoadError extends HeapstreamError {}

const TYPESCRIPT_FILE = /\.(?:ts|mts|cts|tsx)$/;

/** Whether a `plugins:` entry names a file rather than an installed package. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('file:') ||
    isAbsolute(specifier)
  );
}

/** One line saying what went wrong: the error's class when it tells more than "Error", or the value thrown. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return `it threw ${inspect(error, { breakLength: Infinity, depth: 2 })}`;
  const message = error.message.split('\n')[0] ?? error.message;
  return error.name === 'Error' || error.name === '' ? message : `${error.name}: ${message}`;
}

/** Where in the plugin file an error was thrown, when its stack says (JavaScript plugins): ` (thrown at f.mjs:1:7)`. */
function thrownAt(error: unknown, url: string): string {
  const stack = error instanceof Error ? error.stack : undefined;
  const start = stack?.indexOf(`${url}:`) ?? -1;
  if (stack === undefined || start < 0) return '';
  const position = /^(\d+):(\d+)/.exec(stack.slice(start + url.length + 1));
  return position === null ? '' : ` (thrown at ${fileURLToPath(url)}:${position[1]}:${position[2]})`;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ENOENT';
}

async function importTypeScript(url: string, specifier: string): Promise<unknown> {
  let tsImport: (specifier: string, parentURL: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch (error) {
    throw new PluginLoadError(
      `"${specifier}" is TypeScript, which needs tsx to load (npm install tsx), or compile it to JavaScript`,
      { cause: error },
    );
  }
  // tsImport registers its loader only for this import, so nothing leaks into the rest of the process.
  return tsImport(url, import.meta.url);
}

/** Imports a file plugin; TypeScript goes through tsx, which also maps `.js` imports to their `.ts` sources. */
async function importFile(specifier: string, baseDir: string): Promise<unknown> {
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(baseDir, specifier);
  // Checked first so that "not found" means the plugin itself, not one of its own imports.
  if (!existsSync(path)) throw new PluginLoadError(`cannot find module "${specifier}": no file at ${path}`);
  const url = pathToFileURL(path).href;
  try {
    return TYPESCRIPT_FILE.test(specifier) ? await importTypeScript(url, specifier) : await import(url);
  } catch (error) {
    if (error instanceof PluginLoadError) throw error;
    throw new PluginLoadError(
      `cannot load module "${specifier}": ${reasonOf(error)}${thrownAt(error, url)}`,
      {
        cause: error,
      },
    );
  }
}

/** Imports an installed package: first as installed beside the pipeline file, then beside heapstream. */
async function importPackage(specifier: string, baseDir: string): Promise<unknown> {
  let resolved: string | undefined;
  try {
    resolved = createRequire(join(baseDir, 'pipeline.yaml')).resolve(specifier);
  } catch {
    // ESM-only packages have no `require` entry; a plain import below still finds them.
  }
  try {
    return resolved === undefined ? await import(specifier) : await import(pathToFileURL(resolved).href);
  } catch (error) {
    const what = isMissing(error) ? 'cannot find package' : 'cannot load package';
    throw new PluginLoadError(`${what} "${specifier}": ${reasonOf(error)}`, { cause: error });
  }
}

const KINDS = ['source', 'processor', 'sink'];

/**
 * Why a module export that says it is a definition (it has a `kind`) cannot be used, or undefined when it can.
 * The check is structural, so a plugin built against its own copy of heapstream or zod still loads.
 */
export function notADefinition(value: Record<string, unknown>): string | undefined {
  if (typeof value.kind !== 'string' || !KINDS.includes(value.kind)) {
    return 'it was not made with defineSource, defineProcessor or defineSink (no kind: "source", "processor" or "sink")';
  }
  if (typeof value.type !== 'string' || value.type === '') return 'it has no type name';
  if (typeof value.create !== 'function') return 'it has no create function';
  const config = value.config as { safeParse?: unknown; shape?: unknown } | null | undefined;
  if (typeof config?.safeParse !== 'function' || typeof config.shape !== 'object') {
    return 'its config is not a zod object schema (z.strictObject({...}))';
  }
  return undefined;
}

function looksLikeDefinition(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/**
 * Imports a plugin module and returns every definition it exports, the default export and named ones alike (the
 * same definition exported twice counts once). Exports without a `kind` (helpers, constants) are left alone; one
 * with a `kind` that is not a usable definition, or a module with no definition at all, is an error. `specifier`
 * is a path (resolved against `baseDir`, the pipeline file's directory; `.ts` files load through tsx) or an
 * installed package name.
 *
 * @example
 * const definitions = await importPlugin('./plugins/cost.ts', dirname(pipelineFile));
 */
export async function importPlugin(specifier: string, baseDir: string): Promise<ComponentDefinition[]> {
  const namespace = (
    isPathSpecifier(specifier)
      ? await importFile(specifier, baseDir)
      : await importPackage(specifier, baseDir)
  ) as Record<string, unknown>;
  const definitions = new Set<ComponentDefinition>();
  const exports = Object.keys(namespace)
    .filter((name) => name !== '__esModule')
    .sort();
  for (const name of exports) {
    const value = namespace[name];
    if (!looksLikeDefinition(value)) continue;
    const reason = notADefinition(value);
    if (reason !== undefined) {
      throw new PluginLoadError(`export "${name}" of "${specifier}" is not a usable definition: ${reason}`);
    }
    definitions.add(value as unknown as ComponentDefinition);
  }
  if (definitions.size === 0) {
    const list = exports.length === 0 ? 'it exports nothing' : `its exports: ${exports.join(', ')}`;
    throw new PluginLoadError(
      `module "${specifier}" exports no definition made with defineSource, defineProcessor or defineSink; ${list}`,
    );
  }
  return [...definitions];
}
