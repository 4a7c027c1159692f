/**
 * What a worker pool would have to pay to hand per-node work back to the main thread: `npx tsx
 * bench/extras/worker-handoff.ts --nodes 200 --pods-per-node 30`. Issue 16 asks for per-node work (scrape, decode,
 * rate, pod enrichment, pod sums) on worker threads, handing finished batches to the main thread by `postMessage`
 * (the V8 serializer). This times the hand-off against the per-node work it would move, on the same simulated
 * cycle:
 *
 * - *per-node work*: decode of the response bytes, rate, pod and namespace enrichers, aggregate (pod and node sums;
 *   its namespace and cluster sums stay on the main thread) — what a worker would take off the main thread;
 * - *values as records*: each set cloned with its values as a plain record, then SetValues built again on the
 *   main thread (what crossing the old object model cost);
 * - *values as one typed row buffer*: the sets' keys, labels and labeled values cloned, and the batch's values
 *   packed into one Float64Array of catalogue rows (what `postMessage` could transfer instead of copying); the
 *   main thread builds SetValues again slot by slot, an upper bound of wrapping the rows in place;
 * - *labels only*: the sets' keys and labels alone;
 * - *JSON Lines text*: the main-thread cost if workers sent encoded text instead (a string crosses by one copy), as
 *   an upper bound of what a design that also encodes per node in the worker would leave on the main thread.
 *
 * SetValues keeps its slots private, so `v8.serialize` of a set as it is would lose its values: each variant
 * says what crosses. All in CPU ms per node batch, median of the measured cycles, in one thread (no worker is
 * started: the numbers are the work, not the scheduling).
 */
import { deserialize, serialize } from 'node:v8';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ComponentContext } from '../../src/component/component.js';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import type { MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { SLOT_COUNT, SetValues } from '../../src/model/set-values.js';
import { testContext } from '../../src/testing/context.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';
import { cycleEnd, processorStage } from '../sim-cycle.js';
import { SetJsonWriter } from '../../src/model/set-json.js';

export interface WorkerHandoffResult {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly measuredCycles: number;
  readonly serializedKiB: number;
  readonly jsonLinesKiB: number;
  /** Stage → CPU ms per node batch, median of the measured cycles. */
  readonly msPerBatch: Readonly<Record<string, number>>;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cpuMs = (work: () => void): number => {
  const before = process.cpuUsage();
  work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
};

/** Runs `cycles` simulated cycles (two of them warm-up) and times each hand-off stage per node batch. */
export function measureWorkerHandoff(options: {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly cycles: number;
}): WorkerHandoffResult {
  const { nodes, podsPerNode, cycles } = options;
  const RESOLUTION_MS = 15_000;
  const t0 = Date.now() - cycles * RESOLUTION_MS;
  const states = simulatedNodeStates({ nodes, podsPerNode, seed: 1, restartEvery: 0 }, t0);
  const ctx: ComponentContext = testContext({
    resolutionMs: RESOLUTION_MS,
    metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
  });
  const registry = createBuiltinRegistry();
  const perNode = [
    processorStage(registry, ctx, 'rate', {}),
    processorStage(registry, ctx, 'pod_enricher', {}),
    processorStage(registry, ctx, 'namespace_enricher', {}),
    processorStage(registry, ctx, 'aggregate', { levels: ['pod', 'node'] }),
  ];
  const writer = new SetJsonWriter();
  const rows: Record<string, number[]> = {
    'per-node work': [],
    'serialize, values as records': [],
    'deserialize, values as records': [],
    'serialize, values as one typed row buffer': [],
    'deserialize, values as one typed row buffer': [],
    'deserialize, labels only': [],
    'JSON Lines text': [],
  };
  let serializedBytes = 0;
  let textChars = 0;
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
      const mark = cycleEnd(c, tick, nodes);

      events.push(mark);
      for (const run of perNode) events = run(events);
    });
    const batches = events.filter((e): e is NodeBatch => e.kind === 'batch' && e.scope === 'node');
    let wire: Buffer[] = [];
    const ser = cpuMs(() => {
      wire = batches.map((b) => serialize({ ...b, sets: b.sets.map(withRecordValues) }));
    });
    const de = cpuMs(() => {
      for (const w of wire) fromRecordValues(deserialize(w) as NodeBatch);
    });
    let rowWire: Buffer[] = [];
    const serRows = cpuMs(() => {
      rowWire = batches.map((b) => serialize(packRows(b)));
    });
    const deRows = cpuMs(() => {
      for (const w of rowWire) unpackRows(deserialize(w) as PackedBatch);
    });
    // With values in typed arrays (transferred, not copied) what would still be cloned is the sets' keys and labels.
    const labelWire = batches.map((b) => serialize(b.sets.map((set) => [set.key, set.labels])));
    const deLabels = cpuMs(() => {
      for (const w of labelWire) deserialize(w);
    });
    let texts: string[] = [];
    const text = cpuMs(() => {
      texts = batches.map((b) => writer.lines(b));
    });
    if (c < 2) continue; // warm-up: rates start at the second cycle, JIT settles
    rows['per-node work']!.push(work / nodes);
    rows['serialize, values as records']!.push(ser / nodes);
    rows['deserialize, values as records']!.push(de / nodes);
    rows['serialize, values as one typed row buffer']!.push(serRows / nodes);
    rows['deserialize, values as one typed row buffer']!.push(deRows / nodes);
    rows['deserialize, labels only']!.push(deLabels / nodes);
    rows['JSON Lines text']!.push(text / nodes);
    serializedBytes = wire.reduce((a, w) => a + w.length, 0) / wire.length;
    textChars = texts.reduce((a, t) => a + t.length, 0) / texts.length;
  }
  return {
    nodes,
    podsPerNode,
    measuredCycles: cycles - 2,
    serializedKiB: Math.round(serializedBytes / 1024),
    jsonLinesKiB: Math.round(textChars / 1024),
    msPerBatch: Object.fromEntries(Object.entries(rows).map(([name, xs]) => [name, median(xs)])),
  };
}

/** A set as it would cross with its values as a plain record. */
function withRecordValues(set: MetricSet): unknown {
  return { ...set, values: set.values.toJSON() };
}

/** The main thread's side of withRecordValues: SetValues again from each record. */
function fromRecordValues(batch: NodeBatch): void {
  for (const set of batch.sets as unknown as { values: Record<string, number> }[]) {
    (set as unknown as { values: SetValues }).values = SetValues.from(set.values);
  }
}

/** A batch whose values travel as one buffer of catalogue rows, one row per set (NaN: no value). */
interface PackedBatch {
  readonly sets: readonly Omit<MetricSet, 'values'>[];
  readonly rows: Float64Array;
}

function packRows(batch: NodeBatch): PackedBatch {
  const rows = new Float64Array(batch.sets.length * SLOT_COUNT);
  const sets = batch.sets.map((set, i) => {
    const base = i * SLOT_COUNT;
    for (let slot = 0; slot < SLOT_COUNT; slot++) rows[base + slot] = set.values.getAt(slot) ?? NaN;
    const { values: _values, ...rest } = set;
    return rest;
  });
  return { sets, rows };
}

function unpackRows(packed: PackedBatch): MetricSet[] {
  const { rows } = packed;
  return packed.sets.map((set, i) => {
    const values = new SetValues();
    const base = i * SLOT_COUNT;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = rows[base + slot] as number;
      if (value === value) values.setAt(slot, value);
    }
    return { ...set, values };
  });
}

/** The result as a Markdown table, with the share of the per-node work each stage is. */
export function formatWorkerHandoff(r: WorkerHandoffResult): string {
  const work = r.msPerBatch['per-node work'] ?? NaN;
  const lines = [
    `${r.nodes} nodes × ${r.podsPerNode} pods, median of ${r.measuredCycles} cycles; a node batch is ` +
      `${r.serializedKiB} KiB serialized, ${r.jsonLinesKiB} KiB as JSON Lines.`,
    '',
    '| stage | CPU ms per node batch | ÷ per-node work |',
    '| --- | --- | --- |',
  ];
  for (const [name, ms] of Object.entries(r.msPerBatch)) {
    lines.push(`| ${name} | ${ms.toFixed(3)} | ${(ms / work).toFixed(2)} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: {
      nodes: { type: 'string', default: '200' },
      'pods-per-node': { type: 'string', default: '30' },
      cycles: { type: 'string', default: '8' },
    },
  });
  const result = measureWorkerHandoff({
    nodes: Number(args.nodes),
    podsPerNode: Number(args['pods-per-node']),
    cycles: Number(args.cycles),
  });
  process.stdout.write(formatWorkerHandoff(result) + '\n');
}
