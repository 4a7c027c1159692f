/**
 * The rate and aggregate processors of this tree against those of another commit, in one process, interleaved on the
 * same simulated cycles (A, B, B, A, …), in µs of CPU per node batch. Each side gets its own decode of every payload
 * (processors fill their batches in place) and its own pod and namespace enrichers, so aggregate sees what it sees in
 * the default pipeline; the two sides' outputs are compared every cycle, so a difference fails the run.
 *
 *   git archive <commit> src sources processors | tar -x -C <dir> && ln -s "$PWD/node_modules" <dir>/
 *   npx tsx bench/extras/rate-aggregate-ab.ts --baseline <dir> --nodes 100 --pods-per-node 30 --cycles 16
 *
 * Without `--baseline` both sides run this tree's code (a check of the harness's own noise).
 */
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { OperatorFunction } from 'rxjs';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ComponentContext } from '../../src/component/component.js';
import type { AggregateLevel } from '../../processors/aggregate/config.js';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import type { NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';
import { cycleEnd, operatorFeeder } from '../sim-cycle.js';

type Operator = OperatorFunction<PipelineEvent, PipelineEvent>;
interface Implementation {
  readonly rateOperator: (options: { readonly maxGapMs: number }, ctx: ComponentContext) => Operator;
  readonly aggregateOperator: (levels: readonly AggregateLevel[], ctx: ComponentContext) => Operator;
}

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    nodes: { type: 'string', default: '100' },
    'pods-per-node': { type: 'string', default: '30' },
    cycles: { type: 'string', default: '12' },
  },
});
const nodes = Number(args.nodes);
const podsPerNode = Number(args['pods-per-node']);
const cycles = Number(args.cycles);
const WARM_UP = 2;
const RESOLUTION_MS = 15_000;
const LEVELS: readonly AggregateLevel[] = ['pod', 'namespace', 'node', 'cluster'];

async function implementation(root: string): Promise<Implementation> {
  const rate = (await import(pathToFileURL(join(root, 'processors/rate/rate.ts')).href)) as Pick<
    Implementation,
    'rateOperator'
  >;
  const aggregate = (await import(
    pathToFileURL(join(root, 'processors/aggregate/aggregate.ts')).href
  )) as Pick<Implementation, 'aggregateOperator'>;
  return { rateOperator: rate.rateOperator, aggregateOperator: aggregate.aggregateOperator };
}

const here = join(import.meta.dirname, '../..');
const sides = {
  A: await implementation(args.baseline ?? here),
  B: await implementation(here),
};

const t0 = Date.now() - cycles * RESOLUTION_MS;
// The simulator's own nodes, built as the bench's simulator process builds them (same names, seed and layouts).
const states = simulatedNodeStates({ nodes, podsPerNode, seed: 1, restartEvery: 0 }, t0);
const ctx: ComponentContext = testContext({
  resolutionMs: RESOLUTION_MS,
  metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
});
const registry = createBuiltinRegistry();

function builtin(type: string): Operator {
  const def = registry.get('processor', type)!;
  return def.create(def.config.parse({}), { ...ctx, id: type });
}

function side(impl: Implementation) {
  return {
    rate: operatorFeeder(impl.rateOperator({ maxGapMs: 3 * RESOLUTION_MS }, { ...ctx, id: 'rate' })),
    pod: operatorFeeder(builtin('pod_enricher')),
    namespace: operatorFeeder(builtin('namespace_enricher')),
    aggregate: operatorFeeder(impl.aggregateOperator(LEVELS, { ...ctx, id: 'aggregate' })),
    us: { rate: [] as number[], aggregate: [] as number[] },
  };
}
const runs = { A: side(sides.A), B: side(sides.B) };

/**
 * CPU time of a synchronous stage, in µs: the process's, so the collector's helper threads count (the garbage a stage
 * makes is part of its cost) and time spent waiting for a core on a busy machine does not. Minor collections fall
 * where they fall: hence the interleaving, many cycles and medians.
 */
function cpuUs<T>(work: () => T): [T, number] {
  const before = process.cpuUsage();
  const result = work();
  const spent = process.cpuUsage(before);
  return [result, spent.user + spent.system];
}

function run(name: 'A' | 'B', parsed: readonly unknown[], cycle: number, tick: number, measured: boolean) {
  const s = runs[name];
  const events: PipelineEvent[] = parsed.map((p, i): NodeBatch => ({
    kind: 'batch',
    scope: 'node',
    node: states[i]!.name,
    cycle,
    timestamp: tick,
    sets: decodeSummary(p, { name: states[i]!.name }),
  }));
  const mark = cycleEnd(cycle, tick, nodes);
  events.push(mark);
  const [rated, rateUs] = cpuUs(() => s.rate(events));
  const enriched = s.namespace(s.pod(rated));
  const [aggregated, aggregateUs] = cpuUs(() => s.aggregate(enriched));
  if (measured) {
    s.us.rate.push(rateUs / nodes);
    s.us.aggregate.push(aggregateUs / nodes);
  }
  return aggregated;
}

for (let c = 0; c < cycles; c++) {
  const tick = t0 + (c + 1) * RESOLUTION_MS;
  const parsed = states.map((s) => JSON.parse(s.render(tick)) as unknown);
  const measured = c >= WARM_UP;
  // Alternate which side goes first, so neither always runs on a warmer cache or right after a GC.
  const order: ('A' | 'B')[] = c % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  const out = { A: [] as PipelineEvent[], B: [] as PipelineEvent[] };
  for (const name of order) out[name] = run(name, parsed, c, tick, measured);
  // As JSON text: the order of every record's keys counts too (it is what JSON Lines sinks write).
  if (!isDeepStrictEqual(out.A, out.B) || JSON.stringify(out.A) !== JSON.stringify(out.B)) {
    throw new Error(`cycle ${c}: A and B gave different output`);
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** B ÷ A cycle by cycle: both sides ran on the same cycle, one right after the other. */
const ratios = (stage: 'rate' | 'aggregate') => runs.B.us[stage].map((b, i) => b / runs.A.us[stage][i]!);
process.stdout.write(
  `${nodes} nodes × ${podsPerNode} pods, ${cycles - WARM_UP} measured cycles (median µs per node batch); ` +
    `A = ${args.baseline ?? 'this tree'}, B = this tree; outputs identical every cycle\n`,
);
for (const stage of ['rate', 'aggregate'] as const) {
  const a = median(runs.A.us[stage]);
  const b = median(runs.B.us[stage]);
  process.stdout.write(
    `${stage.padEnd(10)} A ${a.toFixed(1).padStart(7)} µs   B ${b.toFixed(1).padStart(7)} µs   ` +
      `median of per-cycle B/A ${median(ratios(stage)).toFixed(2)}\n`,
  );
}
