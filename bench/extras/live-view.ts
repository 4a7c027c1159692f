/**
 * The live view at cluster scale: simulated nodes' real-payload templates decoded as the kubelet_summary source
 * decodes them, through the built-in rate and aggregate processors, into the live view's store; then its
 * `/ui/api/snapshot` over real HTTP on loopback, one request at a time as a page asks after each cycle. Prints the
 * store's cost per cycle (its tap on every event), its memory (heap after GC with the store filled minus before
 * it, once the processors' state exists), and p50/p99 per request (request sent → last byte read) with the
 * response size.
 *
 *   node --expose-gc --import tsx bench/extras/live-view.ts [--nodes 5000] [--pods-per-node 30] [--cycles 4] [--requests 20]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { asyncScheduler } from 'rxjs';
import { createBuiltinRegistry } from '../../src/builtins.js';
import { Telemetry } from '../../src/component/telemetry.js';
import { HealthChecker } from '../../src/engine/health.js';
import { LiveStore } from '../../src/engine/live/store.js';
import { startOpsServer } from '../../src/engine/ops-server.js';
import { PrometheusExporter } from '../../src/engine/prometheus.js';
import type { PipelineEvent } from '../../src/model/types.js';
import { countBatch } from '../../src/model/count.js';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import { testContext } from '../../src/testing/context.js';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';
import { cycleEnd, processorStage } from '../sim-cycle.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    'pods-per-node': { type: 'string', default: '30' },
    cycles: { type: 'string', default: '4' },
    requests: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});
const NODES = Number(args.nodes);
const PODS = Number(args['pods-per-node']);
const CYCLES = Number(args.cycles);
const REQUESTS = Number(args.requests);
const RESOLUTION_MS = 15_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc --import tsx bench/extras/live-view.ts');
  process.exit(2);
}
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

const start = Date.now() - (CYCLES + 2) * RESOLUTION_MS;
const states = simulatedNodeStates({ nodes: NODES, podsPerNode: PODS, seed: 1, restartEvery: 0 }, start);
const registry = createBuiltinRegistry();
const ctx = testContext({ resolutionMs: RESOLUTION_MS });
const rate = processorStage(registry, ctx, 'rate', {});
const aggregate = processorStage(registry, ctx, 'aggregate', {
  levels: ['pod', 'namespace', 'node', 'cluster'],
});

/** One cycle out of the processors, as the pipeline hands it to sinks and to the store. */
function cycleEvents(cycle: number): PipelineEvent[] {
  const t = start + cycle * RESOLUTION_MS;
  const events: PipelineEvent[] = states.map((state) => ({
    kind: 'batch',
    scope: 'node',
    node: state.name,
    cycle,
    timestamp: t,
    sets: decodeSummaryBytes(state.renderBuffer(t), { name: state.name }),
  }));
  events.push(cycleEnd(cycle, t, NODES));
  return aggregate(rate(events));
}

const telemetry = new Telemetry();
const clock = { now: () => Date.now(), scheduler: asyncScheduler };
// The first cycle has no rates: it warms the processors' state (kept in both heap readings) and every path.
cycleEvents(0);
const before = heapAfterGc();
const store = new LiveStore(
  telemetry,
  clock,
  () => ['lake', 'kafka'],
  () => RESOLUTION_MS,
);
let tapMs = 0;
for (let cycle = 1; cycle <= CYCLES; cycle++) {
  const events = cycleEvents(cycle);
  // The pipeline's telemetry counts every batch before the tap sees it; the count is kept per batch.
  for (const e of events) if (e.kind === 'batch') countBatch(e);
  const t0 = performance.now();
  for (const e of events) store.observe(e);
  tapMs += performance.now() - t0;
}
// The processors' state is the same pods' as after the first cycle: what grew is the store.
const storeBytes = heapAfterGc() - before;
const size = store.size;

const health = new HealthChecker(telemetry, clock, () => [], {
  maxCycleAgeMs: 3 * RESOLUTION_MS,
  minNodeShare: 0.5,
  sinkWindowMs: 300_000,
  maxLoopStallMs: 10_000,
});
const server = await startOpsServer({
  address: '127.0.0.1',
  port: 0,
  exporter: new PrometheusExporter(telemetry),
  health,
  liveView: store,
});

async function timed(path: string): Promise<{ p50: number; p99: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  await (await fetch(server.url + path)).arrayBuffer(); // warm-up
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const res = await fetch(server.url + path);
    bytes = (await res.arrayBuffer()).byteLength;
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0) * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), bytes };
}

const requests = {
  five_minutes: await timed('/ui/api/snapshot?range=5m'),
  hour: await timed('/ui/api/snapshot?range=1h'),
  search: await timed('/ui/api/snapshot?range=5m&search=kube-system'),
};
await server.close();

const result = {
  nodes: NODES,
  pods: NODES * PODS,
  tap_ms_per_cycle: Math.round((tapMs / CYCLES) * 10) / 10,
  store_mib: Math.round((storeBytes / 2 ** 20) * 10) / 10,
  size,
  requests: REQUESTS,
  ...requests,
};
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else console.log(result);
