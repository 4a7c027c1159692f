/**
 * The metrics API at cluster scale: a metrics_api sink's store filled with two cycles of 5,000 simulated nodes of
 * 30 pods (150,000 pods, from the simulator's real-payload templates, decoded as the kubelet_summary source
 * decodes them), then `GET /apis/metrics.k8s.io/v1beta1/pods` over real HTTPS on loopback (authentication: none),
 * one request at a time as kubectl and the HPA send them. Prints p50/p99 latency (request sent → last byte read),
 * the response size, and the store's memory: the heap after GC with the store filled minus the heap after GC
 * before, once a throw-away store was filled and dropped (so the simulator's render buffers, compiled code and
 * the metadata for the pods' labels exist in both and are not counted).
 *
 *   node --expose-gc --import tsx bench/extras/metrics-api.ts [--nodes 5000] [--pods-per-node 30] [--requests 40]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { asyncScheduler } from 'rxjs';
import { simulatedNodeStates } from '../../src/sim/cluster.js';
import { testContext } from '../../src/testing/context.js';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';
import { metricsApiSinkConfig } from '../../sinks/metrics-api/config.js';
import { createDelegatedGuard } from '../../src/kube/delegated-auth/delegated-guard.js';
import { createMetricsApiSink } from '../../sinks/metrics-api/metrics-api-sink.js';
import { simulatedClusterMetadata } from '../sim-metadata.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    'pods-per-node': { type: 'string', default: '30' },
    requests: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
const NODES = Number(args.nodes);
const PODS = Number(args['pods-per-node']);
const REQUESTS = Number(args.requests);
const RESOLUTION_MS = 15_000;
const TARGET_P99_MS = 1000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc --import tsx bench/extras/metrics-api.ts');
  process.exit(2);
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

const states = simulatedNodeStates(
  { nodes: NODES, podsPerNode: PODS, seed: 1, restartEvery: 0 },
  Date.now() - 10 * RESOLUTION_MS,
);
/** The pipeline's clock as the sink sees it: stopped after the fill, so the store stays fresh while measured. */
let pipelineNow = Date.now();
const metadata = simulatedClusterMetadata({ nodes: NODES, podsPerNode: PODS, seed: 1 });
metadata.warm();

const newSink = () =>
  createMetricsApiSink(
    metricsApiSinkConfig.parse({ listen: '127.0.0.1:0', authentication: 'none' }),
    testContext({
      metadata,
      resolutionMs: RESOLUTION_MS,
      clock: { now: () => pipelineNow, scheduler: asyncScheduler },
    }),
    { createGuard: createDelegatedGuard }, // not asked: authentication none
  );

/** One node batch per simulated node and cycle, decoded as the kubelet_summary source decodes them. */
async function fill(sink: ReturnType<typeof newSink>, times: readonly number[]): Promise<void> {
  for (const [cycle, t] of times.entries()) {
    for (const state of states) {
      const sets = decodeSummaryBytes(state.renderBuffer(t), { name: state.name });
      await sink.write({ kind: 'batch', scope: 'node', node: state.name, cycle, timestamp: t, sets });
    }
    await sink.cycleEnd?.({
      kind: 'cycle_end',
      cycle,
      timestamp: t,
      nodesExpected: NODES,
      nodesAnswered: NODES,
      failures: [],
      durationMs: 0,
    });
  }
}

await fill(newSink(), [Date.now() - 3 * RESOLUTION_MS]);
const before = heapAfterGc();
const fillStart = performance.now();
const sink = newSink();
const t1 = Date.now();
pipelineNow = t1 + 1000;
await fill(sink, [t1 - RESOLUTION_MS, t1]);
const fillSeconds = (performance.now() - fillStart) / 1000;
const storeBytes = heapAfterGc() - before;
let pods = 0;
for (const entry of sink.store.entries()) {
  for (let p = 0; p < entry.podCount; p++) if (entry.podServable(p)) pods++;
}

await sink.connect?.();
const address = sink.address() as { host: string; port: number };
/**
 * The client runs in a worker thread, as a real client runs in its own process: reading and decrypting 50 MiB
 * on the server's thread would add the client's work to the server's latency. One keep-alive connection, one
 * request at a time; the time is from sending the request to reading the last byte.
 */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:https');
const { performance } = require('node:perf_hooks');
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(path) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: workerData.host, port: workerData.port, path, agent, rejectUnauthorized: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - start, bytes, status: res.statusCode }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
(async () => {
  if (workerData.warm) await get(workerData.path); // warm-up: JIT, the TLS session
  const results = [];
  for (let i = 0; i < workerData.n; i++) results.push(await get(workerData.path));
    parentPort.postMessage(results);
})();
`;

interface Timed {
  readonly ms: number;
  readonly bytes: number;
  readonly status: number;
}

function requestsFromWorker(path: string, n: number, warm = true): Promise<Timed[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, { eval: true, workerData: { ...address, path, n, warm } });
    worker.once('message', (results: Timed[]) => {
      void worker.terminate();
      resolve(results);
    });
    worker.once('error', reject);
  });
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function measure(path: string, n: number) {
  const results = await requestsFromWorker(path, n);
  const bad = results.find((r) => r.status !== 200);
  if (bad !== undefined) throw new Error(`${path}: HTTP ${bad.status}`);
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1] as number,
    bytes: results[0]?.bytes ?? 0,
  };
}

const all = await measure('/apis/metrics.k8s.io/v1beta1/pods', REQUESTS);
const namespace = await measure('/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods', REQUESTS);
const nodes = await measure('/apis/metrics.k8s.io/v1beta1/nodes', Math.min(REQUESTS, 20));
// The first list after the store changed sorts the pods again (later ones reuse the order): one node's next batch.
const last = states[states.length - 1]!;
const tNext = t1 + RESOLUTION_MS;
const nextSets = decodeSummaryBytes(last.renderBuffer(tNext), { name: last.name });
await sink.write({
  kind: 'batch',
  scope: 'node',
  node: last.name,
  cycle: 2,
  timestamp: tNext,
  sets: nextSets,
});
const [afterChange] = await requestsFromWorker('/apis/metrics.k8s.io/v1beta1/pods', 1, false);
await sink.close();

const result = {
  bench: 'metrics_api',
  nodes: NODES,
  pods_served: pods,
  store_mib: Math.round((storeBytes / 2 ** 20) * 10) / 10,
  store_bytes_per_pod: Math.round(storeBytes / Math.max(1, pods)),
  pods_list: {
    p50_ms: Math.round(all.p50),
    p99_ms: Math.round(all.p99),
    response_mib: Math.round((all.bytes / 2 ** 20) * 10) / 10,
  },
  pods_list_after_change_ms: Math.round(afterChange?.ms ?? NaN),
  namespace_list: { p50_ms: Math.round(namespace.p50), p99_ms: Math.round(namespace.p99) },
  nodes_list: { p50_ms: Math.round(nodes.p50), p99_ms: Math.round(nodes.p99) },
  requests: REQUESTS,
  target_p99_ms: TARGET_P99_MS,
  target_met: all.p99 <= TARGET_P99_MS,
  fill_seconds: Math.round(fillSeconds * 10) / 10,
};
if (args.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`metrics API, ${NODES} nodes × ${PODS} pods: ${pods} pods served`);
  console.log(`  store: ${result.store_mib} MiB heap after GC (${result.store_bytes_per_pod} B per pod)`);
  console.log(
    `  GET /pods: p50 ${result.pods_list.p50_ms} ms, p99 ${result.pods_list.p99_ms} ms over ${REQUESTS} requests ` +
      `(${result.pods_list.response_mib} MiB each); target p99 ≤ ${TARGET_P99_MS} ms: ${result.target_met ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  GET /pods, first after the store changed (sorts again, new TLS connection): ${result.pods_list_after_change_ms} ms`,
  );
  console.log(
    `  GET /namespaces/kube-system/pods: p50 ${result.namespace_list.p50_ms} ms, p99 ${result.namespace_list.p99_ms} ms`,
  );
  console.log(`  GET /nodes: p50 ${result.nodes_list.p50_ms} ms, p99 ${result.nodes_list.p99_ms} ms`);
  console.log(`  (filling the store with two cycles took ${result.fill_seconds} s)`);
}
