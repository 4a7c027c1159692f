/**
 * Encoder cost per metric set on a realistic cycle: the simulator's payloads (the real kubelet captures, ~N nodes
 * × P pods) decoded and run through the default processors as bench/stages.ts does, then encoded by each sink's
 * encoder: JSON Lines (the stdout sink's `jsonl`), Kafka `set` and `batch` (with the grouping into requests the sink
 * does next), InfluxDB line protocol (both schemas).
 * Each encoder is timed as it is now and as it was before per-series prefixes were cached (the reference copy in
 * test/support/reference-encoders), interleaved in this process, CPU time, median of several rounds:
 *
 * - warm: every labels object was seen by the encoder in the cycle before (labels kept across cycles), so every
 *   per-series prefix is a cache hit by identity;
 * - cold: a new copy of every labels object each round, with the same content, as the pipeline hands them on (the
 *   decoders and enrichers build new labels every cycle), so each hit costs a comparison.
 *
 *   npx tsx bench/extras/encoders.ts [--nodes 100] [--pods-per-node 30] [--rounds 7]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject } from 'rxjs';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { createBuiltinRegistry } from '../../src/builtins.js';
import type { ComponentContext } from '../../src/component/component.js';
import { copyRecord } from '../../src/model/copy.js';
import type { Labels } from '../../src/model/labels.js';
import { SetJsonWriter } from '../../src/model/set-json.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../../src/model/types.js';
import { cycleEnd } from '../sim-cycle.js';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import { testContext } from '../../src/testing/context.js';
import { LineProtocolEncoder, type EncoderOptions } from '../../sinks/influxdb/encode.js';
import { chunkRecords } from '../../sinks/kafka/chunks.js';
import { BatchEncoder, type EncodeOptions, type KafkaRecord } from '../../sinks/kafka/encode.js';
import { LineProtocolEncoder as LineProtocolBefore } from '../../test/support/reference-encoders/influxdb.js';
import { BatchEncoder as BatchEncoderBefore } from '../../test/support/reference-encoders/kafka.js';
import { SetJsonWriter as SetJsonWriterBefore } from '../../test/support/reference-encoders/set-json.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';

const RESOLUTION_MS = 15_000;
const PROCESSORS: readonly [string, unknown][] = [
  ['rate', {}],
  ['pod_enricher', {}],
  ['namespace_enricher', {}],
  ['aggregate', { levels: ['pod', 'namespace', 'node', 'cluster'] }],
  ['node_enricher', {}],
];
/** Cycles run before the measured ones: rates start at the second. */
const WARM_UP_CYCLES = 2;

export interface EncoderBenchOptions {
  readonly nodes?: number;
  readonly podsPerNode?: number;
  /** Measured rounds (one cycle's sets each); the median is reported. */
  readonly rounds?: number;
  /** Only the encoder of this name (`JSON Lines`, `Kafka set`…): for a profile of one. */
  readonly only?: string;
}

export interface EncoderResult {
  /** `JSON Lines`, `Kafka set`… */
  readonly encoder: string;
  readonly cache: 'warm' | 'cold';
  /** Median µs per metric set, before and now. */
  readonly beforeUsPerSet: number;
  readonly usPerSet: number;
  /** Output (UTF-8) per second, now. */
  readonly mbPerSecond: number;
}

export interface EncoderBench {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly rounds: number;
  /** Metric sets of one cycle (node batches and the cluster batch). */
  readonly setsPerCycle: number;
  readonly valuesPerCycle: number;
  readonly results: readonly EncoderResult[];
}

/** One encoder, reduced to "encode this batch, return its output's UTF-8 bytes". */
type Encode = (batch: MetricBatch) => number;

interface EncoderPair {
  readonly name: string;
  /** A new encoder (one per sink, kept across cycles) as it is now, and as it was before. */
  readonly now: () => Encode;
  readonly before: () => Encode;
}

const KAFKA: Omit<EncodeOptions, 'format'> = { key: 'node', topic: 'metrics', max_message_bytes: 1_000_000 };
const INFLUX: Omit<EncoderOptions, 'schema'> = {
  clusterName: 'default',
  precision: 'ms',
  maxLines: 5000,
  maxBytes: 2 * 1024 * 1024,
  disableCounterMetrics: false,
};

// Each encode returns the bytes of its output, measured by Buffer.byteLength: that flattens the string the
// encoder built, which writing it would do first, so a rope of many small pieces is not cheaper than it is.
const ENCODERS: readonly EncoderPair[] = [
  {
    name: 'JSON Lines',
    now: () => {
      const w = new SetJsonWriter();
      return (batch) => Buffer.byteLength(w.lines(batch));
    },
    before: () => {
      const w = new SetJsonWriterBefore();
      return (batch) => Buffer.byteLength(w.lines(batch));
    },
  },
  {
    name: 'Kafka set',
    now: () => kafkaBytes(new BatchEncoder({ ...KAFKA, format: 'set' })),
    before: () => kafkaBytes(new BatchEncoderBefore({ ...KAFKA, format: 'set' })),
  },
  {
    name: 'Kafka batch',
    now: () => kafkaBytes(new BatchEncoder({ ...KAFKA, format: 'batch' })),
    before: () => kafkaBytes(new BatchEncoderBefore({ ...KAFKA, format: 'batch' })),
  },
  {
    name: 'InfluxDB heapster',
    now: () => influxBytes(new LineProtocolEncoder({ ...INFLUX, schema: 'heapster' })),
    before: () => influxBytes(new LineProtocolBefore({ ...INFLUX, schema: 'heapster' })),
  },
  {
    name: 'InfluxDB fields',
    now: () => influxBytes(new LineProtocolEncoder({ ...INFLUX, schema: 'fields' })),
    before: () => influxBytes(new LineProtocolBefore({ ...INFLUX, schema: 'fields' })),
  },
];

/** What the Kafka sink does with a batch before sending: encode it, then group the records into requests. */
function kafkaBytes(encoder: { encode(b: MetricBatch): { records: readonly KafkaRecord[] } }): Encode {
  return (batch) => {
    let bytes = 0;
    for (const chunk of chunkRecords(encoder.encode(batch).records, KAFKA.max_message_bytes)) {
      for (const { messages } of chunk.topicMessages) {
        for (const message of messages) bytes += Buffer.byteLength(message.value);
      }
    }
    return bytes;
  };
}

function influxBytes(encoder: { encode(b: MetricBatch): { chunks: readonly { body: string }[] } }): Encode {
  return (batch) => {
    let bytes = 0;
    for (const chunk of encoder.encode(batch).chunks) bytes += Buffer.byteLength(chunk.body);
    return bytes;
  };
}

/**
 * Renders two cycles of a simulated cluster through the default processors (after two warm-up cycles, as rates
 * start at the second), then times each encoder, before and now, warm and cold: the first cycle primes the
 * encoder, and each round encodes the second. Only two cycles are kept, so that the heap stays the size of one
 * cycle's sets, as in the pipeline (keeping one cycle per round made the encoders 15 to 40 % slower at 100 nodes).
 *
 * @example
 * console.log(formatEncoderResults(await measureEncoders({ nodes: 100, podsPerNode: 30, rounds: 7 })));
 */
export async function measureEncoders(options: EncoderBenchOptions = {}): Promise<EncoderBench> {
  const nodes = options.nodes ?? 100;
  const podsPerNode = options.podsPerNode ?? 30;
  const rounds = options.rounds ?? 7;
  const cycles = pipelineCycles(nodes, podsPerNode, WARM_UP_CYCLES + 2).slice(WARM_UP_CYCLES);
  const interned = internLabels(cycles);
  const first = cycles[0] as MetricBatch[];
  const second = cycles[1] as MetricBatch[];
  let setsPerCycle = 0;
  let valuesPerCycle = 0;
  for (const batch of first) {
    setsPerCycle += batch.sets.length;
    for (const set of batch.sets) valuesPerCycle += set.values.size + set.labeled.length;
  }

  const results: EncoderResult[] = [];
  for (const pair of ENCODERS) {
    if (options.only !== undefined && pair.name !== options.only) continue;
    for (const cache of ['warm', 'cold'] as const) {
      const now = pair.now();
      const before = pair.before();
      encodeCycle(now, cache === 'warm' ? (interned[0] as MetricBatch[]) : first);
      encodeCycle(before, cache === 'warm' ? (interned[0] as MetricBatch[]) : first);
      const nowMs: number[] = [];
      const beforeMs: number[] = [];
      let bytes = 0;
      for (let r = 1; r <= rounds; r++) {
        const cycle = cache === 'warm' ? (interned[1] as MetricBatch[]) : freshLabels(second);
        // Alternate which goes first, so neither always runs on a heap the other just filled.
        if (r % 2 === 0) beforeMs.push((await timed(before, cycle)).ms);
        const measured = await timed(now, cycle);
        nowMs.push(measured.ms);
        bytes = measured.bytes;
        if (r % 2 === 1) beforeMs.push((await timed(before, cycle)).ms);
      }
      const ms = median(nowMs);
      results.push({
        encoder: pair.name,
        cache,
        beforeUsPerSet: (median(beforeMs) * 1000) / setsPerCycle,
        usPerSet: (ms * 1000) / setsPerCycle,
        mbPerSecond: bytes / 1e6 / (ms / 1000),
      });
    }
  }
  return { nodes, podsPerNode, rounds, setsPerCycle, valuesPerCycle, results };
}

function encodeCycle(encode: Encode, batches: readonly MetricBatch[]): number {
  let bytes = 0;
  for (const batch of batches) bytes += encode(batch);
  return bytes;
}

/**
 * CPU time (user + system, ms) of encoding one cycle: the machine the bench runs on is shared, and wall time
 * counts the time other processes held the cores. A full GC first, and a pause for V8's background threads to
 * finish sweeping after it, so that each encoder starts from the same heap and pays for its own garbage, not
 * for what the one timed before it left (without it, the order of the encoders moved results by 30 %).
 */
async function timed(
  encode: Encode,
  batches: readonly MetricBatch[],
): Promise<{ ms: number; bytes: number }> {
  collectGarbage();
  await delay(SWEEP_PAUSE_MS);
  const started = process.cpuUsage();
  const bytes = encodeCycle(encode, batches);
  const spent = process.cpuUsage(started);
  return { ms: (spent.user + spent.system) / 1000, bytes };
}

const SWEEP_PAUSE_MS = 30;

let gc: (() => void) | undefined;

/**
 * global.gc without the --expose-gc flag on the command line (the bench's other parts run without it); the flag
 * is set on first use, not when bench/main.ts imports this file.
 */
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The node and cluster batches of each cycle of a simulated cluster, after the default processors. */
export function pipelineCycles(nodes: number, podsPerNode: number, cycles: number): MetricBatch[][] {
  const t0 = Date.now() - cycles * RESOLUTION_MS;
  // The simulator's own nodes, built as the bench's simulator process builds them (same names, seed and layouts).
  const states = simulatedNodeStates({ nodes, podsPerNode, seed: 1, restartEvery: 0 }, t0);
  const ctx: ComponentContext = testContext({
    resolutionMs: RESOLUTION_MS,
    metadata: simulatedClusterMetadata({ nodes, podsPerNode, seed: 1 }),
  });
  const registry = createBuiltinRegistry();
  const input = new Subject<PipelineEvent>();
  let events: PipelineEvent[] = [];
  let stream = input.asObservable();
  for (const [type, config] of PROCESSORS) {
    const def = registry.get('processor', type);
    if (def === undefined) throw new Error(`no processor ${type}`);
    stream = stream.pipe(def.create(def.config.parse(config), { ...ctx, id: type }));
  }
  stream.subscribe((e) => events.push(e));
  const out: MetricBatch[][] = [];
  for (let c = 0; c < cycles; c++) {
    const tick = t0 + (c + 1) * RESOLUTION_MS;
    events = [];
    states.forEach((state, i) => {
      const name = states[i]!.name;
      const payload: unknown = JSON.parse(state.render(tick));
      input.next({
        kind: 'batch',
        scope: 'node',
        node: name,
        cycle: c,
        timestamp: tick,
        sets: decodeSummary(payload, { name }),
      });
    });
    const mark = cycleEnd(c, tick, nodes);
    input.next(mark);
    out.push(events.filter((e): e is MetricBatch => e.kind === 'batch'));
  }
  return out;
}

/**
 * The cycle with a new copy of every labels object, as the pipeline hands them on (its decoders and enrichers
 * build new labels every cycle); the frozen ones are the decoder's constants (the `/` and `logs` filesystems), the same objects
 * every cycle, and stay. Objects shared within the cycle stay shared.
 */
function freshLabels(batches: readonly MetricBatch[]): MetricBatch[] {
  const copies = new Map<Labels, Labels>();
  const copy = (labels: Labels): Labels => {
    if (Object.isFrozen(labels)) return labels;
    let fresh = copies.get(labels);
    if (fresh === undefined) copies.set(labels, (fresh = copyRecord(labels)));
    return fresh;
  };
  return batches.map((batch): MetricBatch => ({
    ...batch,
    sets: batch.sets.map((set): MetricSet => ({
      ...set,
      labels: copy(set.labels),
      labeled: set.labeled.map((lv) => ({ ...lv, labels: copy(lv.labels) })),
    })),
  }));
}

/**
 * The same cycles with every labels object replaced by one shared object per distinct content: what the
 * encoders see once labels are interned across cycles (the model's plan), so the second cycle on is all hits.
 */
function internLabels(cycles: readonly MetricBatch[][]): MetricBatch[][] {
  const byContent = new Map<string, Labels>();
  const intern = (labels: Labels): Labels => {
    const content = JSON.stringify(Object.entries(labels));
    let shared = byContent.get(content);
    if (shared === undefined) byContent.set(content, (shared = labels));
    return shared;
  };
  return cycles.map((batches) =>
    batches.map((batch): MetricBatch => ({
      ...batch,
      sets: batch.sets.map((set): MetricSet => ({
        ...set,
        labels: intern(set.labels),
        labeled: set.labeled.map((lv) => ({ ...lv, labels: intern(lv.labels) })),
      })),
    })),
  );
}

/** The results as a Markdown table. */
export function formatEncoderResults(bench: EncoderBench): string {
  const rows = bench.results.map((r) =>
    [
      r.encoder,
      r.cache,
      r.beforeUsPerSet.toFixed(2),
      r.usPerSet.toFixed(2),
      (r.beforeUsPerSet / r.usPerSet).toFixed(1) + '×',
      Math.round(r.mbPerSecond).toLocaleString('en-US'),
    ].join(' | '),
  );
  return [
    `${bench.nodes} nodes × ${bench.podsPerNode} pods: ${bench.setsPerCycle.toLocaleString('en-US')} metric sets, ` +
      `${bench.valuesPerCycle.toLocaleString('en-US')} values per cycle; median of ${bench.rounds} rounds.`,
    '',
    '| encoder | labels | before µs/set | now µs/set | speed-up | now MB/s |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: {
      nodes: { type: 'string', default: '100' },
      'pods-per-node': { type: 'string', default: '30' },
      rounds: { type: 'string', default: '7' },
    },
  });
  const bench = await measureEncoders({
    nodes: Number(args.nodes),
    podsPerNode: Number(args['pods-per-node']),
    rounds: Number(args.rounds),
  });
  console.log(formatEncoderResults(bench));
}
