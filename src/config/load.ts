import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { Registry } from '../component/registry.js';
import { ConfigError } from '../component/errors.js';
import { processorIds, sourceId } from './component-ids.js';
import { ComponentResolver } from './components.js';
import type { Env } from './env.js';
import { configErrorMap, issuesToProblems, MISSING_KEY } from './issues.js';
import { describeBytes, MAX_CONFIG_BYTES } from './limits.js';
import { YamlLocator } from './positions.js';
import { formatProblems, type PathSegment, type Problem } from './problems.js';
import { preloadPlugins, type PluginImporter, type PreloadedPlugins } from './plugins.js';
import { pipelineFileStructure } from './schema.js';
import type { ComponentEntry, PipelineConfig, SinkEntry } from './types.js';
import { pathKey, reportUnknownKeys, unknownKeyReporter } from './unknown-keys.js';
import { yamlToData } from './yaml-data.js';
import { isPlainObject } from '../model/plain-object.js';

/** Whether a path is one of `paths` (as `pathKey` writes them) or inside one. */
function isUnder(path: readonly PathSegment[], paths: ReadonlySet<string>): boolean {
  if (paths.size === 0) return false;
  for (let length = path.length; length >= 0; length--)
    if (paths.has(pathKey(path.slice(0, length)))) return true;
  return false;
}

/** The error for a file over MAX_CONFIG_BYTES; `size` is undefined when it was not read to the end. */
function tooLarge(file: string, size: number | undefined): ConfigError {
  const what = size === undefined ? 'larger than' : `${size.toLocaleString('en-US')} bytes, larger than`;
  return new ConfigError([
    `${file}: the file is ${what} ${describeBytes(MAX_CONFIG_BYTES)}, the most a pipeline file may hold ` +
      '(a pipeline file is a few KB: is this the right file?)',
  ]);
}

/** Refuses a text over MAX_CONFIG_BYTES before any parsing, which would take seconds and gigabytes. */
function checkSize(text: string, file: string): void {
  // A UTF-16 unit is at most 3 bytes of UTF-8, so most texts are decided without counting bytes.
  if (text.length * 3 <= MAX_CONFIG_BYTES) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(file, bytes);
}

/**
 * Reads a pipeline file, but never more than MAX_CONFIG_BYTES + 1 bytes: a huge file (or a FIFO, or a device
 * that never ends) is refused without being read into memory.
 */
async function readPipelineFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) throw tooLarge(path, stat.size);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES) throw tooLarge(path, undefined);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/** Options of `parsePipelineConfig`. */
export interface ParseOptions {
  /**
   * The plugins of `custom` processors, imported beforehand (parsing is synchronous and imports nothing);
   * `loadPipelineConfig` and `loadPipelineConfigText` import them for you.
   */
  readonly plugins?: PreloadedPlugins;
}

/**
 * Parses and validates the text of a `pipeline.yaml` against the registry's components. Every problem in the
 * file is collected and thrown at once as one ConfigError, each as `file:line:col key.path: message`.
 *
 * @example
 * const config = parsePipelineConfig(text, 'pipeline.yaml', registry, { INFLUX_TOKEN: 'secret' });
 */
export function parsePipelineConfig(
  text: string,
  file: string,
  registry: Registry,
  env: Env = process.env,
  options: ParseOptions = {},
): PipelineConfig {
  checkSize(text, file);
  try {
    return parseChecked(text, file, registry, env, options);
  } catch (error) {
    if (error instanceof RangeError) throw nestedTooDeep(file, error);
    throw error;
  }
}

function parseChecked(
  text: string,
  file: string,
  registry: Registry,
  env: Env,
  options: ParseOptions,
): PipelineConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const locator = new YamlLocator(doc, lineCounter);
  const problems: Problem[] = [];
  // Keys that an unknown key probably meant: reporting them as missing too would say the same thing twice.
  const meantKeys = new Set<string>();
  // Paths whose value an alias could not give (each already a problem): validating that value says nothing more.
  const unusable = new Set<string>();
  let conversionProblems = 0;
  const fail = (): never => {
    const distinct = problems.filter(
      (p, index) =>
        (p.message !== MISSING_KEY || !meantKeys.has(pathKey(p.path))) &&
        (index < conversionProblems || !isUnder(p.path, unusable)),
    );
    throw new ConfigError(formatProblems(file, distinct));
  };

  // After a syntax error the document's structure is a guess; validating it would only add noise.
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    const message = error.message.split('\n')[0] ?? error.message;
    problems.push({
      line: Math.max(line, 1),
      col: Math.max(col, 1),
      path: [],
      message: `YAML syntax error: ${message}`,
    });
  }
  if (problems.length > 0) fail();

  const data = yamlToData(doc, locator, env, problems, unusable);
  conversionProblems = problems.length;
  if (data === null || data === undefined) {
    problems.push({
      line: 1,
      col: 1,
      path: [],
      message: 'the file is empty: it needs at least `source` and `sinks`',
    });
    fail();
  }

  const checked = reportUnknownKeys(
    data,
    pipelineFileStructure,
    [],
    unknownKeyReporter(locator, problems, meantKeys),
  );
  const top = pipelineFileStructure.safeParse(data, { error: configErrorMap });
  if (!top.success)
    problems.push(...issuesToProblems(top.error.issues, [], { locator, checkedObjects: checked, meantKeys }));

  // Components are checked even when the top level has problems, so that one run reports every mistake.
  const resolver = new ComponentResolver(registry, locator, problems, meantKeys, options.plugins);
  const raw = isPlainObject(data) ? data : {};
  const source = resolver.component(
    'source',
    raw.source,
    ['source'],
    sourceId(raw.source, locator, problems),
  );
  const processors: ComponentEntry[] = [];
  if (Array.isArray(raw.processors)) {
    const ids = processorIds(raw.processors, locator, problems);
    raw.processors.forEach((entry: unknown, index) => {
      const id = ids[index] as string;
      const resolved = resolver.component('processor', entry, ['processors', index], id);
      if (resolved !== undefined) processors.push(resolved);
    });
  }
  const sinks: SinkEntry[] = [];
  if (isPlainObject(raw.sinks)) {
    for (const [name, entry] of Object.entries(raw.sinks)) {
      const resolved = resolver.sink(name, entry, ['sinks', name]);
      if (resolved !== undefined) sinks.push(resolved);
    }
  }

  if (problems.length > 0 || !top.success || source === undefined) return fail();
  const { resolution, source: _source, processors: _processors, sinks: _sinks, ...settings } = top.data;
  return {
    ...settings,
    file,
    baseDir: dirname(resolve(file)),
    resolutionMs: resolution,
    source,
    processors,
    sinks,
  };
}

/** Options of `loadPipelineConfig` and `loadPipelineConfigText`. */
export interface LoadOptions {
  /** How plugins are imported; by default paths and package names are imported (TypeScript through tsx). */
  readonly importPlugin?: PluginImporter;
  /** How long one plugin may take to import before it is reported as a problem; 10 s by default. */
  readonly pluginImportTimeoutMs?: number;
}

/**
 * Validates the text of a `pipeline.yaml` after importing the plugins its `custom` processors name, so that
 * their configs are checked by their own schemas; relative module paths resolve against the file's directory.
 *
 * @example
 * const config = await loadPipelineConfigText(text, 'examples/top-pods/pipeline.yaml', registry);
 */
export async function loadPipelineConfigText(
  text: string,
  file: string,
  registry: Registry,
  env: Env = process.env,
  options: LoadOptions = {},
): Promise<PipelineConfig> {
  checkSize(text, file);
  const baseDir = dirname(resolve(file));
  const plugins = await withinStack(file, () =>
    preloadPlugins(text, baseDir, registry, env, options.importPlugin, options.pluginImportTimeoutMs),
  );
  return parsePipelineConfig(text, file, registry, env, { plugins });
}

/**
 * Runs a step of reading YAML, turning a stack overflow into a ConfigError: YAML nested thousands of levels deep
 * (`- - - - …` fits 100,000 levels in 200 KB) overflows the parser's recursion, and the RangeError would escape
 * as a crash instead of a problem with the file.
 */
async function withinStack<T>(file: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof RangeError) throw nestedTooDeep(file, error);
    throw error;
  }
}

function nestedTooDeep(file: string, cause: RangeError): ConfigError {
  return new ConfigError(
    [`${file}: the YAML is nested too deeply to read (${cause.message}); a pipeline file nests a few levels`],
    { cause },
  );
}

/**
 * Reads and validates a `pipeline.yaml`, importing the plugins of its `custom` processors first; relative paths
 * inside it resolve against its directory.
 *
 * @example
 * const config = await loadPipelineConfig('pipeline.yaml', registry);
 */
export async function loadPipelineConfig(
  path: string,
  registry: Registry,
  env: Env = process.env,
  options: LoadOptions = {},
): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readPipelineFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${path}: cannot read the pipeline file: ${reason}`], { cause: error });
  }
  return loadPipelineConfigText(text, path, registry, env, options);
}
