/**
 * What the property-based tests of the decoders and the config loader share: where the real captures are, how
 * many runs to make, hostile values, mutations of parsed JSON, and the invariants every emitted set must keep.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect } from 'vitest';
import { DecodeError } from '../../src/component/errors.js';
import { metricByName, valueTypeOf } from '../../src/model/catalogue.js';
import type { MetricSet } from '../../src/model/types.js';

/**
 * Runs per property: `FUZZ_RUNS` when set (`npm run fuzz` sets it high), else `fallback`, sized so that the
 * whole fuzz suite stays within about a minute of `npm test` on a small machine.
 */
export function fuzzRuns(fallback: number): number {
  const fromEnv = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}

/**
 * `npm test` replays the same cases every run (a fixed seed), so that CI passes or fails on the code, not on
 * the draw; `npm run fuzz` (FUZZ_RUNS set) draws new cases each time to find new failures; `FUZZ_SEED` replays one.
 */
const NPM_TEST_SEED = 20261205;

/** fast-check parameters: the seed (see NPM_TEST_SEED) and the run count. */
export function fuzzParameters(fallbackRuns: number): fc.Parameters<unknown> {
  const fromEnv = Number(process.env.FUZZ_SEED);
  const exploring = process.env.FUZZ_RUNS !== undefined;
  const seed =
    Number.isInteger(fromEnv) && process.env.FUZZ_SEED !== ''
      ? fromEnv
      : exploring
        ? undefined
        : NPM_TEST_SEED;
  return {
    numRuns: fuzzRuns(fallbackRuns),
    ...(seed === undefined ? {} : { seed }),
  };
}

/** A vitest timeout that grows with the run count, so `npm run fuzz` is not cut short. */
export function fuzzTimeout(fallbackRuns: number, msPerRun: number): number {
  return Math.max(30_000, fuzzRuns(fallbackRuns) * msPerRun);
}

/**
 * The shared captures (`shared/fixtures`, beside the repository): the nearest ancestor folder of this file that
 * holds `shared/fixtures`, so that a checkout in a sub-folder finds them too.
 */
function sharedFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('shared/fixtures not found beside the repository');
    dir = parent;
  }
}

/** The text of one shared capture, e.g. `kubelet/nri-1.34/stats-summary.json`. */
export function sharedFixture(path: string): string {
  return readFileSync(join(sharedFixturesDir(), path), 'utf8');
}

/** Decoding one input must take less than this: well above a real payload's few ms, far below a hang. */
export const DECODE_TIME_LIMIT_MS = 2_000;

export const INT64_LIMIT = 2 ** 63;

/** Numbers a hostile or buggy kubelet sends: uint64 sentinels, overflowing floats, negatives, fractions. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    2 ** 64, // the uint64 "unknown" sentinel 18446744073709551615, as JSON.parse reads it
    2 ** 63 - 1, // int64 max as a double: 2^63
    2 ** 63,
    2 ** 62 + 1,
    Number.MAX_SAFE_INTEGER + 2,
    1.2e32,
    1e308,
    -1e308,
    -1,
    -0,
    0.5,
    4294967295,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
);

/** Strings where a number or a time is expected, and huge strings. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Inf',
    '1e999',
    '18446744073709551615',
    '',
    '\u0000',
    '"',
    '\\',
    '0001-01-01T00:00:00Z',
    '9999-99-99T99:99:99Z',
    '2024-02-30T25:61:61.999999999999Z',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 40 }),
);

/**
 * A long run of `x`, printed by fast-check as `huge(n)` so that a counterexample stays readable; `materialize`
 * turns it into the string.
 */
export class Huge {
  constructor(readonly length: number) {}
  text(): string {
    return 'x'.repeat(this.length);
  }
  [fc.toStringMethod](): string {
    return `huge(${this.length})`;
  }
}

export const hugeString: fc.Arbitrary<Huge> = fc
  .integer({ min: 10_000, max: 300_000 })
  .map((n) => new Huge(n));

/** The value itself, or the string a Huge stands for, or the structure a Deep stands for. */
export function materialize(value: unknown): unknown {
  if (value instanceof Huge) return value.text();
  if (value instanceof Deep) return value.value();
  return value;
}

/** Arrays and objects nested `depth` deep, as a kubelet (or an attacker) could send; printed as `deep(n)`. */
export class Deep {
  constructor(readonly depth: number) {}
  value(): unknown {
    let value: unknown = [];
    for (let i = 0; i < this.depth; i++) value = i % 2 === 0 ? [value] : { a: value };
    return value;
  }
  [fc.toStringMethod](): string {
    return `deep(${this.depth})`;
  }
}

/** Structures where a scalar (or a different structure) is expected. */
export const hostileStructure: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, [null], { length: 1 }, ['a', 1], { '0': 'a' }),
  // At most 1,000 levels: the harness's own JSON.stringify and structuredClone recurse, and 2,405 levels
  // overflowed them (in the harness, not the decoder) under `npm run fuzz`.
  fc.integer({ min: 100, max: 1_000 }).map((depth) => new Deep(depth)),
  fc.jsonValue({ maxDepth: 3 }),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileNumber },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: hugeString },
  { weight: 3, arbitrary: hostileStructure },
);

export type JsonPath = readonly (string | number)[];

/** Every path of a parsed JSON document, split by what sits there, so mutations can aim at numbers and strings. */
export interface PathIndex {
  readonly all: readonly JsonPath[];
  readonly numbers: readonly JsonPath[];
  readonly strings: readonly JsonPath[];
  /** Paths of objects (a key may be removed, added or duplicated there). */
  readonly objects: readonly JsonPath[];
}

export function indexPaths(document: unknown): PathIndex {
  const all: JsonPath[] = [];
  const numbers: JsonPath[] = [];
  const strings: JsonPath[] = [];
  const objects: JsonPath[] = [];
  const walk = (value: unknown, path: JsonPath): void => {
    all.push(path);
    if (typeof value === 'number') numbers.push(path);
    else if (typeof value === 'string') strings.push(path);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, i]));
    else if (typeof value === 'object' && value !== null) {
      objects.push(path);
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    }
  };
  walk(document, []);
  return { all, numbers, strings, objects };
}

/** One change to a parsed document. */
export type JsonMutation =
  | { readonly op: 'replace'; readonly path: JsonPath; readonly value: unknown }
  | { readonly op: 'delete'; readonly path: JsonPath }
  | { readonly op: 'add'; readonly path: JsonPath; readonly key: string; readonly value: unknown }
  /** The key appears twice in the text: first `value`, then the original (or the other way round). */
  | {
      readonly op: 'duplicate';
      readonly path: JsonPath;
      readonly value: unknown;
      readonly hostileLast: boolean;
    }
  /** An array element repeated `times` times: many sets from one node, duplicate keys of sets. */
  | { readonly op: 'repeat'; readonly path: JsonPath; readonly times: number };

/** One of the captures with one to four mutations aimed at its own paths. */
export function mutatedCapture<C extends { readonly index: PathIndex }>(
  captures: readonly C[],
): fc.Arbitrary<[C, JsonMutation[]]> {
  return fc
    .constantFrom(...captures)
    .chain((capture) =>
      fc.tuple(fc.constant(capture), fc.array(jsonMutation(capture.index), { minLength: 1, maxLength: 4 })),
    );
}

/** Mutations aimed at numbers, strings, any node, object keys and array elements of the indexed document. */
export function jsonMutation(
  index: PathIndex,
  values: fc.Arbitrary<unknown> = hostileValue,
): fc.Arbitrary<JsonMutation> {
  const pick = (paths: readonly JsonPath[]): fc.Arbitrary<JsonPath> =>
    paths.length === 0 ? fc.constant<JsonPath>([]) : fc.constantFrom(...paths);
  const elements = index.all.filter((p) => typeof p[p.length - 1] === 'number');
  const keyed = index.all.filter((p) => typeof p[p.length - 1] === 'string');
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant('replace' as const), path: pick(index.numbers), value: values }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('replace' as const), path: pick(index.strings), value: values }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('replace' as const), path: pick(index.all), value: values }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: pick(keyed) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('add' as const),
        path: pick(index.objects),
        key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'name', 'time', 'labels'), fc.string()),
        value: values,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('duplicate' as const),
        path: pick(keyed),
        value: values,
        hostileLast: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('repeat' as const),
        path: pick(elements),
        times: fc.integer({ min: 2, max: 200 }),
      }),
    },
  );
}

const DUPLICATE_MARK = '\u0001heapstream-fuzz-duplicate\u0001';

/** The parent container of `path` and the last segment, or undefined when the path no longer exists. */
function parentOf(
  root: unknown,
  path: JsonPath,
): [Record<string | number, unknown>, string | number] | undefined {
  if (path.length === 0) return undefined;
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  if (typeof node !== 'object' || node === null) return undefined;
  return [node as Record<string | number, unknown>, path[path.length - 1]!];
}

/**
 * The text of `document` with the mutations applied in turn (a mutation whose path an earlier one removed does
 * nothing). The text is what a kubelet would send; numbers beyond 2^53 read back as the nearest double.
 */
export function mutatedJsonText(document: unknown, mutations: readonly JsonMutation[]): string {
  let root: unknown = structuredClone(document);
  const duplicates: { key: string; hostile: string; original: string; hostileLast: boolean }[] = [];
  for (const mutation of mutations) {
    if (mutation.path.length === 0) {
      if (mutation.op === 'replace') root = materialize(mutation.value);
      continue;
    }
    const found = parentOf(root, mutation.path);
    if (found === undefined) continue;
    const [parent, last] = found;
    switch (mutation.op) {
      case 'replace':
        parent[last] = materialize(mutation.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'add': {
        const target = parent[last];
        if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
          Object.defineProperty(target, mutation.key, {
            value: materialize(mutation.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        break;
      }
      case 'duplicate': {
        if (Array.isArray(parent) || typeof last !== 'string') break;
        const mark = `${DUPLICATE_MARK}${duplicates.length}`;
        duplicates.push({
          key: JSON.stringify(last),
          hostile: JSON.stringify(materialize(mutation.value)) ?? 'null',
          original: JSON.stringify(parent[last]) ?? 'null',
          hostileLast: mutation.hostileLast,
        });
        parent[last] = mark;
        break;
      }
      case 'repeat': {
        if (!Array.isArray(parent)) break;
        const elements = parent as unknown[];
        const index = Number(last);
        const copies = Array.from({ length: mutation.times - 1 }, (): unknown =>
          structuredClone(elements[index]),
        );
        elements.splice(index + 1, 0, ...copies);
        break;
      }
    }
  }
  let text = JSON.stringify(root) ?? 'null';
  duplicates.forEach((d, i) => {
    const mark = JSON.stringify(`${DUPLICATE_MARK}${i}`);
    const pair = d.hostileLast
      ? `${d.original},${d.key}:${d.hostile}`
      : `${d.hostile},${d.key}:${d.original}`;
    // A function, not a string: a hostile value may hold `$&` or `$1`, which a replacement string would expand.
    text = text.replace(mark, () => pair);
  });
  return text;
}

/**
 * Runs one decoding and checks the contract of every decoder: it returns sets or throws a DecodeError (never a
 * TypeError, RangeError or anything else), within DECODE_TIME_LIMIT_MS, and every set it returns keeps
 * `expectSaneSets`.
 */
export function expectDecodesSafely(decode: () => readonly MetricSet[]): void {
  const started = performance.now();
  let sets: readonly MetricSet[] | undefined;
  try {
    sets = decode();
  } catch (error) {
    if (!(error instanceof DecodeError)) {
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Error(`decoder threw ${what.slice(0, 300)}, not a DecodeError`, { cause: error });
    }
  }
  const elapsed = performance.now() - started;
  expect(elapsed, 'decoding time (ms)').toBeLessThan(DECODE_TIME_LIMIT_MS);
  if (sets !== undefined) expectSaneSets(sets);
}

/**
 * What a sink may rely on: label values are strings, values are finite numbers, counters are not negative,
 * integer metrics (catalogue valueType `int`) are integers below 2^63 in magnitude, and times are finite.
 */
export function expectSaneSets(sets: readonly MetricSet[]): void {
  for (const set of sets) {
    const where = `set ${String(set.key).slice(0, 120)}`;
    checkLabels(set.labels, `${where} labels`);
    for (const [name, value] of set.values) checkValue(name, value, where);
    for (const labeled of set.labeled) {
      checkLabels(labeled.labels, `${where} labeled ${labeled.name} labels`);
      checkValue(labeled.name, labeled.value, `${where} labeled`);
    }
    if (!Number.isFinite(set.scrapeTime)) throw new Error(`${where}: scrapeTime ${set.scrapeTime}`);
    if (!Number.isFinite(set.startTime)) throw new Error(`${where}: startTime ${set.startTime}`);
  }
}

function checkLabels(labels: Readonly<Record<string, unknown>>, where: string): void {
  for (const [name, value] of Object.entries(labels)) {
    if (typeof value !== 'string') {
      throw new Error(`${where}: label ${name} is ${describeValue(value)}, not a string`);
    }
  }
}

function checkValue(name: string, value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${where}: ${name} = ${describeValue(value)} is not a finite number`);
  }
  // The Summary source rejects a negative counter; every source must keep counters non-negative.
  if (value < 0 && metricByName(name)?.kind === 'cumulative') {
    throw new Error(`${where}: counter ${name} = ${value} is negative`);
  }
  if (valueTypeOf(name) !== 'int') return;
  if (!Number.isInteger(value)) throw new Error(`${where}: integer metric ${name} = ${value}`);
  if (Math.abs(value) >= INT64_LIMIT) throw new Error(`${where}: ${name} = ${value} is out of int64 range`);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}
