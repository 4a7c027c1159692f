/**
 * The Summary decoder from the response bytes against the old path (UTF-8 text, JSON.parse, decodeSummary), in
 * one process, interleaved (old, new, old, new…) so that both see the same machine: on the real kubelet 1.34
 * capture and on a simulator-rendered node of 30 pods. Prints per payload: µs (median of the rounds), the GC
 * time V8 reported during the rounds (PerformanceObserver 'gc' entries, divided by the payloads decoded), and the
 * bytes allocated (heap growth over one decode, median of the decodes no GC interrupted).
 *
 *   npx tsx bench/extras/summary-decode.ts [--rounds 15] [--pods-per-node 30]
 */
import { readFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import { DecodeReport } from '../../src/model/decode-report.js';
import { buildLayout } from '../../src/sim/layout.js';
import { NodeState } from '../../src/sim/node-state.js';
import { loadTemplate } from '../../src/sim/template.js';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    'pods-per-node': { type: 'string', default: '30' },
  },
});
const ROUNDS = Number(args.rounds);
const PODS = Number(args['pods-per-node']);
/** Payloads decoded per timed batch: enough for ~10 ms per batch, so the timer's resolution does not matter. */
const BATCH = 50;
const NODE = { name: 'bench-node' };

type Decoder = (bytes: Buffer) => number;

const decoders: readonly [string, Decoder][] = [
  [
    'old: toString + JSON.parse + decodeSummary',
    (bytes) =>
      decodeSummary(parseJsonBody(bytes.toString('utf8'), '/stats/summary'), NODE, {
        report: new DecodeReport(),
      }).length,
  ],
  [
    'new: decodeSummaryBytes',
    (bytes) => decodeSummaryBytes(bytes, NODE, { report: new DecodeReport() }).length,
  ],
];

function payloads(): [string, Buffer][] {
  const capture = readFileSync(
    new URL('../../fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url),
  );
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const state = new NodeState(buildLayout(loadTemplate('nri-1.34'), PODS, t0), {
    name: 'sim-node-001',
    podSuffix: '001',
    seed: 1,
    stream: 0,
    restartEvery: 0,
  });
  // A copy: renderBuffer reuses its scratch buffer.
  const rendered = Buffer.from(state.renderBuffer(t0 + 15_000));
  const compact = Buffer.from(JSON.stringify(JSON.parse(capture.toString('utf8'))));
  return [
    [`real kubelet 1.34 capture, indented as captured (${capture.length} B)`, capture],
    [`the same, compact (${compact.length} B)`, compact],
    [`simulated node, ${PODS} pods (${rendered.length} B)`, rendered],
  ];
}

/** GC pauses V8 reported (delivered later, so matched to the batch that ran at their start time). */
const gcPauses: { start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push({ start: entry.startTime, ms: entry.duration });
}).observe({ entryTypes: ['gc'] });
/** When each decoder's batches ran. */
const windows: { start: number; end: number; decoder: number }[] = [];

/** GC ms that started during decoder `i`'s batches. */
function gcMsOf(i: number): number {
  let ms = 0;
  for (const pause of gcPauses) {
    if (windows.some((w) => w.decoder === i && pause.start >= w.start && pause.start < w.end)) ms += pause.ms;
  }
  return ms;
}

/** µs per payload over one batch. */
function timeBatch(decode: Decoder, bytes: Buffer): number {
  const kept: number[] = [];
  const started = performance.now();
  for (let i = 0; i < BATCH; i++) kept.push(decode(bytes));
  const us = ((performance.now() - started) * 1000) / BATCH;
  if (kept.some((n) => n === 0)) throw new Error('a payload decoded to nothing');
  return us;
}

/** Bytes allocated by one decode: heap growth, over decodes that no GC interrupted (the heap did not shrink). */
function allocatedBytes(decode: Decoder, bytes: Buffer): number {
  const growth: number[] = [];
  for (let i = 0; i < 200 && growth.length < 30; i++) {
    const before = process.memoryUsage().heapUsed;
    decode(bytes);
    const after = process.memoryUsage().heapUsed;
    if (after > before) growth.push(after - before);
  }
  return median(growth);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

for (const [name, bytes] of payloads()) {
  for (const [, decode] of decoders) for (let i = 0; i < 3; i++) timeBatch(decode, bytes); // warm-up
  const us = decoders.map((): number[] => []);
  gcPauses.length = 0;
  windows.length = 0;
  for (let round = 0; round < ROUNDS; round++) {
    decoders.forEach(([, decode], i) => {
      const start = performance.now();
      us[i]!.push(timeBatch(decode, bytes));
      windows.push({ start, end: performance.now(), decoder: i });
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the observer report the last GCs
  process.stdout.write(`${name}, median of ${ROUNDS} interleaved rounds of ${BATCH}\n`);
  decoders.forEach(([label, decode], i) => {
    const gcUs = (gcMsOf(i) * 1000) / (ROUNDS * BATCH);
    const kb = allocatedBytes(decode, bytes) / 1024;
    process.stdout.write(
      `  ${label.padEnd(45)} ${median(us[i]!).toFixed(1).padStart(7)} µs` +
        `  GC ${gcUs.toFixed(1).padStart(5)} µs  ${kb.toFixed(0).padStart(5)} KB allocated\n`,
    );
  });
  const ratio = median(us[1]!) / median(us[0]!);
  process.stdout.write(`  new ÷ old ${ratio.toFixed(2)}\n`);
}
