/**
 * Where the pipeline's CPU goes, stage by stage, without HTTP: `npx tsx bench/stages.ts --nodes 200
 * --pods-per-node 30 [--cycles 6]`. Payloads are rendered in-process by the simulator's own code, then each stage
 * (JSON.parse, decode, and each processor of the default pipeline) runs over a whole cycle's events at once and
 * is timed on its own. Use it to check a hot-path change quickly; `npm run bench` remains the measure of record.
 * `--decoder bytes` times the Summary source's own decoding (decodeSummaryBytes on the response bytes) as one
 * stage instead of JSON.parse and decode of the text.
 */
import { parseArgs } from 'node:util';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import { decodeSummaryBytes } from '../sources/kubelet-summary/decode-bytes.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import type { ComponentContext } from '../src/component/component.js';
import { simulatedNodeStates } from '../src/sim/cluster.js';
import type { NodeBatch, PipelineEvent } from '../src/model/types.js';
import { testContext } from '../src/testing/context.js';
import { simulatedClusterMetadata } from './sim-metadata.js';
import { cycleEnd, processorStage } from './sim-cycle.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '200' },
    'pods-per-node': { type: 'string', default: '30' },
    cycles: { type: 'string', default: '6' },
    decoder: { type: 'string', default: 'json' },
  },
});
const fromBytes = args.decoder === 'bytes';
const nodes = Number(args.nodes);
const podsPerNode = Number(args['pods-per-node']);
const cycles = Number(args.cycles);
const RESOLUTION_MS = 15_000;
const PROCESSORS: readonly [string, unknown][] = [
  ['rate', {}],
  ['pod_enricher', {}],
  ['namespace_enricher', {}],
  ['aggregate', { levels: ['pod', 'namespace', 'node', 'cluster'] }],
  ['node_enricher', {}],
];

const t0 = Date.now() - cycles * RESOLUTION_MS;
// The simulator's own nodes, built as the bench's simulator process builds them (same names, seed and layouts).
const states = simulatedNodeStates({ nodes, podsPerNode, seed: 1, restartEvery: 0 }, t0);
const ctx: ComponentContext = testContext({
  resolutionMs: RESOLUTION_MS,
  metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
});
const registry = createBuiltinRegistry();

const stages = PROCESSORS.map(([type, config]) => ({
  type,
  run: processorStage(registry, ctx, type, config),
}));
const cpu: Record<string, number> = fromBytes ? { 'decode bytes': 0 } : { 'JSON.parse': 0, decode: 0 };
for (const s of stages) cpu[s.type] = 0;
let values = 0;

const time = <T>(name: string, work: () => T, measured: boolean): T => {
  const before = process.cpuUsage();
  const result = work();
  const spent = process.cpuUsage(before);
  if (measured) cpu[name] = (cpu[name] ?? 0) + (spent.user + spent.system) / 1e6;
  return result;
};

for (let c = 0; c < cycles; c++) {
  const measured = c >= 2; // two warm-up cycles: rates start at the second
  const tick = t0 + (c + 1) * RESOLUTION_MS;
  const batch = (i: number, sets: NodeBatch['sets']): NodeBatch => ({
    kind: 'batch',
    scope: 'node',
    node: states[i]!.name,
    cycle: c,
    timestamp: tick,
    sets,
  });
  let events: PipelineEvent[];
  if (fromBytes) {
    // Copies: renderBuffer reuses one scratch buffer per layout.
    const bodies = states.map((s) => Buffer.from(s.renderBuffer(tick)));
    events = time(
      'decode bytes',
      () => bodies.map((b, i) => batch(i, decodeSummaryBytes(b, { name: states[i]!.name }))),
      measured,
    );
  } else {
    const texts = states.map((s) => s.render(tick));
    const parsed = time('JSON.parse', () => texts.map((t) => JSON.parse(t) as unknown), measured);
    events = time(
      'decode',
      () => parsed.map((p, i) => batch(i, decodeSummary(p, { name: states[i]!.name }))),
      measured,
    );
  }
  const mark = cycleEnd(c, tick, nodes);
  events.push(mark);
  for (const s of stages) events = time(s.type, () => s.run(events), measured);
  if (measured) {
    for (const e of events) {
      if (e.kind !== 'batch') continue;
      for (const set of e.sets) {
        values += set.labeled.length + set.values.size;
      }
    }
  }
}

const measuredCycles = cycles - 2;
const total = Object.values(cpu).reduce((a, b) => a + b, 0);
process.stdout.write(
  `${nodes} nodes × ${podsPerNode} pods, ${measuredCycles} measured cycles, ` +
    `${Math.round(values / measuredCycles).toLocaleString('en-US')} values per cycle\n`,
);
for (const [name, seconds] of Object.entries(cpu)) {
  process.stdout.write(
    `${name.padEnd(20)} ${((1000 * seconds) / measuredCycles / nodes).toFixed(3)} ms/node  ` +
      `${((100 * seconds) / total).toFixed(1).padStart(5)} %\n`,
  );
}
process.stdout.write(
  `${'total'.padEnd(20)} ${((1000 * total) / measuredCycles / nodes).toFixed(3)} ms/node\n`,
);
