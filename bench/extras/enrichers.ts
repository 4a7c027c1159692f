/**
 * The enrichers alone, per node batch: CPU µs and heap allocated, over a simulated cluster's cycles (so their
 * per-node caches warm), optionally against the enrichers of another commit in the same process, interleaved.
 *
 *   npx tsx --expose-gc bench/extras/enrichers.ts [--nodes 100] [--pods-per-node 30] [--cycles 12] [--shuffle]
 *     [--baseline <git ref>]
 *
 * Without `--baseline` one chain runs: pod_enricher → namespace_enricher → aggregate → node_enricher, fed by the
 * simulator's payloads decoded and rated once per cycle. With it, the three enrichers of that commit are copied
 * out of git into `.bench-baseline/` (removed at exit) and a second chain runs them; each cycle both chains get
 * the same input, the one that goes first alternating, and each stage is timed on its own. Reported: the median
 * over the measured cycles of µs of CPU per node batch, and of heap allocated per node batch (heap growth across
 * the stage with a collection before it; `--expose-gc` needed, and a cycle in which a collection ran inside the
 * stage is left out, so run with a large young generation: `--max-semi-space-size=128`). `--shuffle` puts each
 * batch's sets in a new random order every cycle, as a kubelet that lists pods from a Go map would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ComponentContext, ProcessorDefinition } from '../../src/component/component.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { buildLayout } from '../../src/sim/layout.js';
import { NodeState } from '../../src/sim/node-state.js';
import { loadTemplate, TEMPLATE_NAMES } from '../../src/sim/template.js';
import { testContext } from '../../src/testing/context.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    'pods-per-node': { type: 'string', default: '30' },
    cycles: { type: 'string', default: '12' },
    baseline: { type: 'string' },
    shuffle: { type: 'boolean', default: false },
  },
});
const nodes = Number(args.nodes);
const podsPerNode = Number(args['pods-per-node']);
const cycles = Number(args.cycles);
const WARM_UP = 2;
const RESOLUTION_MS = 15_000;
const ENRICHERS = [
  ['pod_enricher', 'pod-enricher'],
  ['namespace_enricher', 'namespace-enricher'],
  ['node_enricher', 'node-enricher'],
] as const;
const gc = (globalThis as { gc?: () => void }).gc;

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const registry = createBuiltinRegistry();

/** The enrichers' definitions at `ref`, copied out of git beside the repo's own folders so that imports resolve. */
async function baselineDefinitions(ref: string): Promise<Map<string, ProcessorDefinition>> {
  const dir = join(repo, '.bench-baseline');
  rmSync(dir, { recursive: true, force: true });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const defs = new Map<string, ProcessorDefinition>();
  for (const [type, folder] of ENRICHERS) {
    const files = execFileSync('git', ['ls-tree', '--name-only', ref, `processors/${folder}/`], { cwd: repo })
      .toString()
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    mkdirSync(join(dir, folder), { recursive: true });
    for (const file of files) {
      const text = execFileSync('git', ['show', `${ref}:${file}`], { cwd: repo });
      writeFileSync(join(dir, folder, file.slice(file.lastIndexOf('/') + 1)), text);
    }
    const module = (await import(pathToFileURL(join(dir, folder, 'index.ts')).href)) as {
      default: ProcessorDefinition;
    };
    defs.set(type, module.default);
  }
  return defs;
}

const t0 = Date.now() - cycles * RESOLUTION_MS;
const layouts = TEMPLATE_NAMES.map((name) => buildLayout(loadTemplate(name), podsPerNode, t0));
const width = Math.max(3, String(nodes).length);
const states = Array.from({ length: nodes }, (_, i) => {
  const number = String(i + 1).padStart(width, '0');
  return new NodeState(layouts[i % layouts.length]!, {
    name: `sim-node-${number}`,
    podSuffix: number,
    seed: 1,
    stream: i,
    restartEvery: 0,
  });
});
const ctx: ComponentContext = testContext({
  resolutionMs: RESOLUTION_MS,
  metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
});

/** A stage fed by hand: push a cycle's events, collect what comes out synchronously. */
function stage(def: ProcessorDefinition, config: unknown): (events: PipelineEvent[]) => PipelineEvent[] {
  const operator = def.create(def.config.parse(config), { ...ctx, id: def.type });
  const input = new Subject<PipelineEvent>();
  let out: PipelineEvent[] = [];
  operator(input).subscribe((e) => out.push(e));
  return (events) => {
    out = [];
    for (const e of events) input.next(e);
    return out;
  };
}

interface Chain {
  readonly name: string;
  readonly stages: readonly {
    readonly type: string;
    readonly run: (e: PipelineEvent[]) => PipelineEvent[];
  }[];
  /** Per stage: CPU µs per node batch and bytes per node batch, one entry per measured cycle. */
  readonly cpu: Map<string, number[]>;
  readonly heap: Map<string, number[]>;
}

function chain(name: string, enrichers: ReadonlyMap<string, ProcessorDefinition>): Chain {
  const def = (type: string) => enrichers.get(type) ?? registry.get('processor', type)!;
  const stages = [
    { type: 'pod_enricher', run: stage(def('pod_enricher'), {}) },
    { type: 'namespace_enricher', run: stage(def('namespace_enricher'), {}) },
    { type: 'aggregate', run: stage(def('aggregate'), { levels: ['pod', 'namespace', 'node', 'cluster'] }) },
    { type: 'node_enricher', run: stage(def('node_enricher'), {}) },
  ];
  return { name, stages, cpu: new Map(), heap: new Map() };
}

let collections = 0;
new PerformanceObserver((list) => (collections += list.getEntries().length)).observe({ entryTypes: ['gc'] });

/** Runs a chain over one cycle's events, timing each stage; returns nothing (outputs are dropped). */
function runChain(c: Chain, input: PipelineEvent[], measured: boolean): void {
  let events = input;
  for (const s of c.stages) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const gcBefore = collections;
    const before = process.cpuUsage();
    events = s.run(events);
    const spent = process.cpuUsage(before);
    const heapAfter = process.memoryUsage().heapUsed;
    if (!measured) continue;
    const cpu = c.cpu.get(s.type) ?? [];
    cpu.push((spent.user + spent.system) / nodes);
    c.cpu.set(s.type, cpu);
    // The GC observer reports asynchronously; a collection inside the stage shows as a shrunk heap.
    if (gc !== undefined && collections === gcBefore && heapAfter >= heapBefore) {
      const heap = c.heap.get(s.type) ?? [];
      heap.push((heapAfter - heapBefore) / nodes);
      c.heap.set(s.type, heap);
    }
  }
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const chains = [chain('current', new Map())];
if (args.baseline !== undefined)
  chains.unshift(chain(args.baseline, await baselineDefinitions(args.baseline)));
const rate = stage(registry.get('processor', 'rate')!, {});

/** A seeded Fisher–Yates shuffle, so that runs compare the same orders. */
let seed = 1;
const shuffleIfAsked = <T>(items: T[]): T[] => (args.shuffle ? shuffled(items) : items);
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

for (let c = 0; c < cycles; c++) {
  const measured = c >= WARM_UP;
  const tick = t0 + (c + 1) * RESOLUTION_MS;
  const batches: PipelineEvent[] = states.map((s): NodeBatch => ({
    kind: 'batch',
    scope: 'node',
    node: s.name,
    cycle: c,
    timestamp: tick,
    sets: shuffleIfAsked(decodeSummary(JSON.parse(s.render(tick)), { name: s.name })),
  }));
  const mark: CycleEnd = {
    kind: 'cycle_end',
    cycle: c,
    timestamp: tick,
    nodesExpected: nodes,
    nodesAnswered: nodes,
    failures: [],
    durationMs: 0,
  };
  const input = rate([...batches, mark]);
  const order = c % 2 === 0 ? chains : [...chains].reverse();
  for (const ch of order) runChain(ch, input, measured);
}

process.stdout.write(
  `${nodes} nodes × ${podsPerNode} pods, ${cycles - WARM_UP} measured cycles (median), per node batch\n`,
);
const header = ['stage'.padEnd(20), ...chains.map((c) => `${c.name} µs`.padStart(14))];
if (chains.length === 2) header.push('ratio'.padStart(7));
header.push(...chains.map((c) => `${c.name} KB`.padStart(14)));
process.stdout.write(header.join(' ') + '\n');
for (const { type } of chains[0]!.stages) {
  const us = chains.map((c) => median(c.cpu.get(type) ?? []));
  const kb = chains.map((c) => median(c.heap.get(type) ?? []) / 1024);
  const row = [type.padEnd(20), ...us.map((v) => v.toFixed(1).padStart(14))];
  if (us.length === 2) row.push(((us[1] ?? NaN) / (us[0] ?? NaN)).toFixed(2).padStart(7));
  row.push(...kb.map((v) => v.toFixed(1).padStart(14)));
  process.stdout.write(row.join(' ') + '\n');
}
