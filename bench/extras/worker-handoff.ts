/**
 * What a worker pool would have to pay to hand per-node work back to the main thread: `npx tsx
 * bench/extras/worker-handoff.ts --nodes 200 --pods-per-node 30`. Issue 16 asks for per-node work (scrape, decode,
 * rate, pod enrichment, pod sums) on worker threads, handing finished batches to the main thread. Today's metric
 * sets are plain objects, so a batch would cross by structured clone (what `postMessage` does with the V8
 * serializer); this times that against the per-node work it would move, on the same simulated cycle:
 *
 * - *per-node work*: decode of the response bytes, rate, pod and namespace enrichers, aggregate (pod and node sums;
 *   its namespace and cluster sums stay on the main thread) — what a worker would take off the main thread;
 * - *serialize* (the worker's extra cost) and *deserialize* (the main thread's new cost) of each finished batch, with
 *   `v8.serialize`/`v8.deserialize`, the serializer `postMessage` uses;
 * - *JSON Lines text*: the main-thread cost if workers sent encoded text instead (a string crosses by one copy), as
 *   an upper bound of what a design that also encodes per node in the worker would leave on the main thread.
 *
 * All in CPU ms per node batch, median of the measured cycles, in one thread (no worker is started: the numbers
 * are the work, not the scheduling).
 */
import { deserialize, serialize } from 'node:v8';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ComponentContext } from '../../src/component/component.js';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';
import { SetJsonWriter } from '../../src/model/set-json.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '200' },
    'pods-per-node': { type: 'string', default: '30' },
    cycles: { type: 'string', default: '8' },
  },
});
const nodes = Number(args.nodes);
const podsPerNode = Number(args['pods-per-node']);
const cycles = Number(args.cycles);
const RESOLUTION_MS = 15_000;
const t0 = Date.now() - cycles * RESOLUTION_MS;
const states = simulatedNodeStates({ nodes, podsPerNode, seed: 1, restartEvery: 0 }, t0);
const ctx: ComponentContext = testContext({
  resolutionMs: RESOLUTION_MS,
  metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
});
const registry = createBuiltinRegistry();

function stage(type: string, config: unknown): (events: PipelineEvent[]) => PipelineEvent[] {
  const def = registry.get('processor', type)!;
  const operator = def.create(def.config.parse(config), { ...ctx, id: type });
  const input = new Subject<PipelineEvent>();
  let out: PipelineEvent[] = [];
  operator(input).subscribe((e) => out.push(e));
  return (events) => {
    out = [];
    for (const e of events) input.next(e);
    return out;
  };
}

const perNode = [
  stage('rate', {}),
  stage('pod_enricher', {}),
  stage('namespace_enricher', {}),
  stage('aggregate', { levels: ['pod', 'node'] }),
];
const writer = new SetJsonWriter();

const cpuMs = (work: () => void): number => {
  const before = process.cpuUsage();
  work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
};

const rows: Record<string, number[]> = {
  'per-node work': [],
  serialize: [],
  deserialize: [],
  'JSON Lines text': [],
};
let bytesPerBatch = 0;
let textPerBatch = 0;
for (let c = 0; c < cycles; c++) {
  const tick = t0 + (c + 1) * RESOLUTION_MS;
  const bodies = states.map((s) => Buffer.from(s.renderBuffer(tick)));
  let events: PipelineEvent[] = [];
  const work = cpuMs(() => {
    events = bodies.map((b, i): NodeBatch => ({
      kind: 'batch',
      scope: 'node',
      node: states[i]!.name,
      cycle: c,
      timestamp: tick,
      sets: decodeSummaryBytes(b, { name: states[i]!.name }),
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
    events.push(mark);
    for (const run of perNode) events = run(events);
  });
  const batches = events.filter((e): e is NodeBatch => e.kind === 'batch' && e.scope === 'node');
  let wire: Buffer[] = [];
  const ser = cpuMs(() => {
    wire = batches.map((b) => serialize(b));
  });
  const de = cpuMs(() => {
    for (const w of wire) deserialize(w);
  });
  let texts: string[] = [];
  const text = cpuMs(() => {
    texts = batches.map((b) => writer.lines(b));
  });
  if (c < 2) continue; // warm-up: rates start at the second cycle, JIT settles
  rows['per-node work']!.push(work / nodes);
  rows.serialize!.push(ser / nodes);
  rows.deserialize!.push(de / nodes);
  rows['JSON Lines text']!.push(text / nodes);
  bytesPerBatch = wire.reduce((a, w) => a + w.length, 0) / wire.length;
  textPerBatch = texts.reduce((a, t) => a + t.length, 0) / texts.length;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `${nodes} nodes × ${podsPerNode} pods, ${cycles - 2} measured cycles; a node batch is ` +
    `${Math.round(bytesPerBatch / 1024)} KiB serialized, ${Math.round(textPerBatch / 1024)} KiB as JSON Lines\n\n` +
    '| stage | CPU ms per node batch (median) |\n| --- | --- |\n',
);
for (const [name, xs] of Object.entries(rows)) {
  process.stdout.write(`| ${name} | ${median(xs).toFixed(3)} |\n`);
}
