import { open } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
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
import {
  importPlugins,
  pluginSpecifiers,
  PreloadedPlugins,
  registerPlugins,
  type PluginImporter,
} from './plugins.js';
import { pipelineFileStructure } from './schema.js';
import { diskBufferPath } from './sink-options.js';
import type { PipelineConfig, ProcessorEntry, SinkEntry } from './types.js';
import { pathKey, reportUnknownKeys, unknownKeyReporter } from './unknown-keys.js';
import { yamlToData } from './yaml-data.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
   * The modules of the file's `plugins:`, imported beforehand (parsing is synchronous and imports nothing);
   * `loadPipelineConfig` and `loadPipelineConfigText` import them for you.
   */
  readonly plugins?: PreloadedPlugins;
}

/** A pipeline text parsed once, with what validation needs to report every problem of it. */
interface ParsedText {
  readonly file: string;
  readonly locator: YamlLocator;
  readonly data: unknown;
  readonly problems: Problem[];
  /** Keys that an unknown key probably meant: reporting them as missing too would say the same thing twice. */
  readonly meantKeys: Set<string>;
  /** Paths whose value an alias could not give (each already a problem): validating that value says nothing more. */
  readonly unusable: Set<string>;
  /** How many of `problems` came from reading the YAML (those are never filtered out). */
  readonly conversionProblems: number;
}

/** Throws every problem found so far as one ConfigError, but those that repeat another. */
function fail(parsed: ParsedText): never {
  const { problems, meantKeys, unusable, conversionProblems } = parsed;
  const distinct = problems.filter(
    (p, index) =>
      (p.message !== MISSING_KEY || !meantKeys.has(pathKey(p.path))) &&
      (index < conversionProblems || !isUnder(p.path, unusable)),
  );
  throw new ConfigError(formatProblems(parsed.file, distinct));
}

/** Parses a pipeline text into data (env substituted), once; throws on a syntax error or an empty file. */
function parseText(text: string, file: string, env: Env): ParsedText {
  checkSize(text, file);
  return withinStack(file, () => parseChecked(text, file, env));
}

/**
 * Runs a step of reading YAML, turning a stack overflow into a ConfigError: YAML nested thousands of levels deep
 * (`- - - …` fits 100,000 levels in 200 KB) overflows the parser's recursion or our walks over the document, and
 * the RangeError would escape as a crash instead of a problem with the file.
 */
function withinStack<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ConfigError(
      [
        `${file}: the YAML is nested too deeply to read (${error.message}); a pipeline file nests a few levels`,
      ],
      { cause: error },
    );
  }
}

function parseChecked(text: string, file: string, env: Env): ParsedText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const locator = new YamlLocator(doc, lineCounter);
  const problems: Problem[] = [];
  const unusable = new Set<string>();
  const base = { file, locator, problems, meantKeys: new Set<string>(), unusable };

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
  if (problems.length > 0) fail({ ...base, data: undefined, conversionProblems: problems.length });

  const data = yamlToData(doc, locator, env, problems, unusable);
  const parsed = { ...base, data, conversionProblems: problems.length };
  if (data === null || data === undefined) {
    problems.push({
      line: 1,
      col: 1,
      path: [],
      message: 'the file is empty: it needs at least `source` and `sinks`',
    });
    fail(parsed);
  }
  return parsed;
}

/**
 * Two sinks whose disk buffers share a directory, or one inside the other's, would read and delete each other's
 * segments: refused here, so that `validate` rejects it as `run` would.
 */
function sharedBufferPaths(sinks: readonly SinkEntry[], dataDir: string, locator: YamlLocator): Problem[] {
  const problems: Problem[] = [];
  const claimed: { sink: string; dir: string }[] = [];
  for (const entry of sinks) {
    const buffer = entry.options.buffer;
    if (buffer.type !== 'disk') continue;
    const dir = diskBufferPath(entry.name, buffer, dataDir);
    const other = claimed.find((c) => c.dir === dir || isInside(c.dir, dir) || isInside(dir, c.dir));
    if (other !== undefined) {
      const where = ['sinks', entry.name, 'buffer', buffer.path === undefined ? 'type' : 'path'];
      const how = other.dir === dir ? `the same directory as` : `a directory overlapping that of`;
      problems.push(
        locator.problemAtValue(
          where,
          `the disk buffer ${dir} is ${how} sink ${other.sink}'s (${other.dir}); give each sink its own buffer.path`,
        ),
      );
    }
    claimed.push({ sink: entry.name, dir });
  }
  return problems;
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Validates parsed data against the registry and the file's plugins, collecting every problem. */
function validate(parsed: ParsedText, registry: Registry, plugins: PreloadedPlugins): PipelineConfig {
  const { data, locator, problems, meantKeys, file } = parsed;
  const checked = reportUnknownKeys(
    data,
    pipelineFileStructure,
    [],
    unknownKeyReporter(locator, problems, meantKeys),
  );
  const top = pipelineFileStructure.safeParse(data, { error: configErrorMap });
  if (!top.success)
    problems.push(...issuesToProblems(top.error.issues, [], { locator, checkedObjects: checked, meantKeys }));

  const withPlugins = registerPlugins(registry, data, plugins, locator, problems);
  // Components are checked even when the top level has problems, so that one run reports every mistake.
  const resolver = new ComponentResolver(withPlugins.registry, locator, problems, meantKeys);
  const raw = isPlainObject(data) ? data : {};
  const source = resolver.source(raw.source, ['source'], sourceId(raw.source, locator, problems));
  const processors: ProcessorEntry[] = [];
  if (Array.isArray(raw.processors)) {
    const ids = processorIds(raw.processors, locator, problems);
    raw.processors.forEach((entry: unknown, index) => {
      const resolved = resolver.processor(entry, ['processors', index], ids[index] as string);
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

  const dataDir = top.success ? top.data.data_dir : undefined;
  if (dataDir !== undefined) problems.push(...sharedBufferPaths(sinks, dataDir, locator));

  if (problems.length > 0 || !top.success || source === undefined) return fail(parsed);
  const {
    resolution,
    plugins: _plugins,
    source: _source,
    processors: _processors,
    sinks: _sinks,
    ...settings
  } = top.data;
  return {
    ...settings,
    file,
    baseDir: dirname(resolve(file)),
    resolutionMs: resolution,
    plugins: withPlugins.definitions,
    source,
    processors,
    sinks,
  };
}

/**
 * Parses and validates the text of a `pipeline.yaml` against the registry's components and the definitions of
 * its `plugins:` (preloaded, see ParseOptions). Every problem in the file is collected and thrown at once as one
 * ConfigError, each as `file:line:col key.path: message`.
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
  const parsed = parseText(text, file, env);
  return withinStack(file, () => validate(parsed, registry, options.plugins ?? new PreloadedPlugins()));
}

/** Options of `loadPipelineConfig` and `loadPipelineConfigText`. */
export interface LoadOptions {
  /** How plugins are imported; by default paths and package names are imported (TypeScript through tsx). */
  readonly importPlugin?: PluginImporter;
  /** How long one plugin may take to import before it is reported as a problem; 10 s by default. */
  readonly pluginImportTimeoutMs?: number;
}

/** Imports the modules a parsed file's `plugins:` lists, relative to the file's directory. */
function importPluginsOf(parsed: ParsedText, options: LoadOptions): Promise<PreloadedPlugins> {
  return importPlugins(
    pluginSpecifiers(parsed.data),
    dirname(resolve(parsed.file)),
    options.importPlugin,
    options.pluginImportTimeoutMs,
  );
}

/**
 * Validates the text of a `pipeline.yaml` after importing the modules its `plugins:` lists, so that entries of
 * their types are checked by their own schemas; relative module paths resolve against the file's directory. The
 * text is parsed once.
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
  const parsed = parseText(text, file, env);
  const plugins = await importPluginsOf(parsed, options);
  return withinStack(file, () => validate(parsed, registry, plugins));
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readPipelineFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${path}: cannot read the pipeline file: ${reason}`], { cause: error });
  }
}

/**
 * The registry a pipeline file's components are checked against: `registry` plus the definitions of the modules
 * its `plugins:` lists. Only the plugins are checked (a file still being written may have other mistakes); one
 * that cannot be used throws a ConfigError with its position. For `heapstream schema -c pipeline.yaml`.
 *
 * @example
 * const withPlugins = await loadPluginRegistry('pipeline.yaml', createBuiltinRegistry());
 */
export async function loadPluginRegistry(
  path: string,
  registry: Registry,
  env: Env = process.env,
  options: LoadOptions = {},
): Promise<Registry> {
  const parsed = parseText(await readConfigFile(path), path, env);
  const problems: Problem[] = [];
  const plugins = await importPluginsOf(parsed, options);
  const result = registerPlugins(registry, parsed.data, plugins, parsed.locator, problems);
  if (problems.length > 0) throw new ConfigError(formatProblems(path, problems));
  return result.registry;
}

/**
 * Reads and validates a `pipeline.yaml`, importing the modules of its `plugins:` first; relative paths
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
  return loadPipelineConfigText(await readConfigFile(path), path, registry, env, options);
}
