/**
 * `npm run bench`: the pipeline's throughput, latency, CPU and memory on a simulated cluster.
 *
 *   npm run bench                                   all sizes, one process each; rewrites docs/benchmarks.md
 *   npm run bench -- --nodes 100 --pods-per-node 30 one size; prints its tables
 *   npm run bench -- --extras                       only the component benches: encoders, file sink, Prometheus parsing,
 *                                                   metrics API, disk buffer, live view
 *   npm run bench -- --soak 60m --nodes 1000        runs that long, sampling RSS and heap; reports the slope
 *
 * Options for one size: --cycles N (measured, after one warm-up; default 4), --resolution 15s, --timeout 10s,
 * --seed 1, --concurrency N (scrapes in flight; the source's default 256), --cpu-prof FILE (profile of the measured cycles + its hottest functions), --file-sink DIR (also write
 * Parquet files), --jsonl (also write every batch as JSON Lines through the stdout sink to /dev/null),
 * --disk-buffer DIR (the counting sink buffered on disk there, buffer.type: disk), --workers auto|N (the
 * pipeline's decode threads), --json FILE
 * (the result as JSON, used by the all-sizes run).
 *
 * Soak options: --soak DURATION (e.g. 60m; with --nodes, --pods-per-node, --resolution, --timeout, --seed,
 * --concurrency), --sample-every DURATION (default 1m): a progress line per sample, then first/last/max RSS and
 * the RSS and live-heap slopes in MB per hour; --json FILE writes every sample.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/component/duration.js';
import { formatDiskBuffer, measureDiskBuffer } from './extras/disk-buffer.js';
import { formatFileSinkResults, measureFileSink } from './extras/file-sink.js';
import { formatObjectStorage, measureObjectStorage } from './extras/file-sink-s3.js';
import { formatIcebergBench, measureIcebergTable } from './extras/iceberg-table.js';
import { existingWeedBinary } from '../test/services/seaweedfs-install.js';
import { formatPrometheusParse, measurePrometheusParse } from './extras/prometheus-parse.js';
import { formatMetricsApi, measureMetricsApi } from './extras/metrics-api-run.js';
import { formatLiveView, measureLiveView } from './extras/live-view-run.js';
import { formatWorkerHandoff, measureWorkerHandoff } from './extras/worker-handoff.js';
import { formatEncoderResults, measureEncoders } from './extras/encoders.js';
import { formatSharded, measureSharded } from './sharded.js';
import {
  describeMachine,
  formatDiskPairs,
  formatHot,
  formatResults,
  formatTargets,
  type DiskPair,
} from './report.js';
import { runSize, type SizeResult } from './run-size.js';
import { formatSoak, runSoak } from './soak.js';

interface Size {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly resolution: string;
  /** Measured cycles and scrape deadline, when not the command line's. */
  readonly cycles?: string;
  readonly timeout?: string;
  /** Also encode every batch as JSON Lines (the stdout sink, to /dev/null). */
  readonly jsonl?: boolean;
  /** The pipeline's `workers:`. */
  readonly workers?: 'auto';
  /** The counting sink behind a disk buffer (`buffer.type: disk`) in a directory of the run's own. */
  readonly diskBuffer?: boolean;
}

/** The documented sizes, smallest first: the first is the quick one CI runs. */
const SIZES: readonly Size[] = [
  { nodes: 100, podsPerNode: 30, resolution: '5s' },
  { nodes: 1000, podsPerNode: 30, resolution: '15s' },
  { nodes: 1000, podsPerNode: 30, resolution: '15s', diskBuffer: true },
  { nodes: 1000, podsPerNode: 30, resolution: '15s', jsonl: true },
  { nodes: 5000, podsPerNode: 30, resolution: '15s' },
  { nodes: 5000, podsPerNode: 30, resolution: '15s', workers: 'auto' },
  // The stretch needs more than one core per 15 s cycle on a small machine: at 15 s its cycles overlap, nodes are
  // skipped as busy and no cycle can be measured on its own. A longer resolution measures its cost per cycle.
  { nodes: 5000, podsPerNode: 110, resolution: '60s', cycles: '2', timeout: '30s' },
];

const DOC = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const NOTES = fileURLToPath(new URL('./NOTES.md', import.meta.url));

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string' },
    'pods-per-node': { type: 'string' },
    cycles: { type: 'string', default: '4' },
    resolution: { type: 'string' },
    timeout: { type: 'string', default: '10s' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'file-sink': { type: 'string' },
    jsonl: { type: 'boolean', default: false },
    'disk-buffer': { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'string' },
    extras: { type: 'boolean', default: false },
    sharded: { type: 'boolean', default: false },
    soak: { type: 'string' },
    'sample-every': { type: 'string', default: '1m' },
  },
  strict: true,
});

function positiveInteger(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, got ${String(text)}`);
  return n;
}

function milliseconds(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new Error(`--${name}: expected a duration such as 15s, got ${text}`);
  return ms;
}

function workersOption(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--workers: expected auto or a count, got ${text}`);
  return n;
}

const progress = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

async function runOne(): Promise<void> {
  const nodes = positiveInteger('nodes', args.nodes);
  const podsPerNode = positiveInteger('pods-per-node', args['pods-per-node'] ?? '30');
  const result = await runSize({
    nodes,
    podsPerNode,
    resolutionMs: milliseconds('resolution', args.resolution ?? (nodes <= 100 ? '5s' : '15s')),
    cycles: positiveInteger('cycles', args.cycles),
    seed: positiveInteger('seed', args.seed),
    timeoutMs: milliseconds('timeout', args.timeout),
    progress,
    ...(args.concurrency === undefined
      ? {}
      : { concurrency: positiveInteger('concurrency', args.concurrency) }),
    ...(args['file-sink'] === undefined ? {} : { fileSink: args['file-sink'] }),
    ...(args['cpu-prof'] === undefined ? {} : { cpuProfile: args['cpu-prof'] }),
    jsonl: args.jsonl,
    ...(args['disk-buffer'] === undefined ? {} : { diskBuffer: args['disk-buffer'] }),
    ...(args.workers === undefined ? {} : { workers: workersOption(args.workers) }),
  });
  if (args.json !== undefined) await writeFile(args.json, JSON.stringify(result));
  process.stdout.write(`\n${formatResults([result])}\n${formatTargets([result])}\n\n`);
  if (result.hot !== undefined)
    process.stdout.write(`${formatHot(result)}\n\nprofile: ${args['cpu-prof']}\n`);
  const failed = Object.values(result.failures).reduce((a, b) => a + b, 0);
  if (failed > 0 || result.cycles.length === 0) process.exitCode = 1;
}

async function runSoakOnce(duration: string): Promise<void> {
  const nodes = positiveInteger('nodes', args.nodes ?? '1000');
  const result = await runSoak({
    nodes,
    podsPerNode: positiveInteger('pods-per-node', args['pods-per-node'] ?? '30'),
    resolutionMs: milliseconds('resolution', args.resolution ?? (nodes <= 100 ? '5s' : '15s')),
    seed: positiveInteger('seed', args.seed),
    timeoutMs: milliseconds('timeout', args.timeout),
    durationMs: milliseconds('soak', duration),
    sampleEveryMs: milliseconds('sample-every', args['sample-every']),
    progress,
    ...(args.concurrency === undefined
      ? {}
      : { concurrency: positiveInteger('concurrency', args.concurrency) }),
    ...(args['file-sink'] === undefined ? {} : { fileSink: args['file-sink'] }),
  });
  if (args.json !== undefined) await writeFile(args.json, JSON.stringify(result));
  process.stdout.write(`\n${formatSoak(result)}\n`);
  if (result.cycles === 0) process.exitCode = 1;
}

/**
 * The component benches, run in this process once the sizes are done: the file sink's rows/s and bytes per value
 * (Parquet and JSON Lines), the cost of reading a real `/metrics/cadvisor` capture, and each sink's encoder per set.
 */
async function componentBenches(): Promise<string> {
  progress('file sink: 3 s per format');
  const fileSink = formatFileSinkResults(await measureFileSink({ seconds: 3 }));
  // Building SeaweedFS takes minutes: the bench uses a binary already there and says how to get one otherwise.
  let objectStorage =
    'Skipped: no SeaweedFS `weed` binary (set HEAPSTREAM_WEED_BIN, or run `npx tsx bench/extras/file-sink-s3.ts`, which builds it into `.cache/`).';
  let icebergTable = objectStorage.replace('file-sink-s3.ts', 'iceberg-table.ts');
  if (existingWeedBinary() !== undefined) {
    progress('object storage: SeaweedFS on loopback, 3 s per format');
    objectStorage = formatObjectStorage(await measureObjectStorage({ seconds: 3 }));
    progress('Iceberg table: SeaweedFS on loopback, 5 snapshots of 4 cycles');
    icebergTable = formatIcebergBench(await measureIcebergTable(5, 4));
  }
  progress('Prometheus text: parsing the /metrics/cadvisor capture');
  const prometheus = formatPrometheusParse(measurePrometheusParse());
  progress('encoders: 100 nodes × 30 pods, 7 rounds');
  const encoders = formatEncoderResults(await measureEncoders({ nodes: 100, podsPerNode: 30, rounds: 7 }));
  progress('metrics API: 5,000 nodes × 30 pods (150,000 pods), in its own process');
  const metricsApi = formatMetricsApi(await measureMetricsApi());
  progress('live view: 5,000 nodes × 30 pods (150,000 pods), in its own process');
  const liveView = formatLiveView(await measureLiveView({ nodes: 5000, podsPerNode: 30 }));
  progress('worker hand-off: 200 nodes × 30 pods, 8 cycles');
  const handoff = formatWorkerHandoff(measureWorkerHandoff({ nodes: 200, podsPerNode: 30, cycles: 8 }));
  progress('disk buffer: 300 node batches, 5 rounds');
  const diskBuffer = formatDiskBuffer(await measureDiskBuffer({ batches: 300, rounds: 5 }));
  return `## Encoders

Each sink's encoder on one cycle of the simulator (100 nodes × 30 pods, default processors), before and after
per-series caching, CPU time, median of 7 rounds. *warm*: the same labels objects as in the previous cycle
(labels kept across cycles); *cold*: fresh labels objects with the same content, as the pipeline hands them on (its
decoders and enrichers build new labels every cycle). Kafka rows include
the grouping into requests. The issue's target is ≤ 3 µs per metric set for each. Reproduce: \`npx tsx bench/extras/encoders.ts\`.

${encoders}

## Metrics API (\`metrics_api\` sink)

The sink's latest-points store filled with two cycles of 5,000 simulated nodes × 30 pods (150,000 pods, decoded as
the \`kubelet_summary\` source decodes them), then requests over real HTTPS on loopback, one at a time as kubectl
and the HPA send them, from a worker thread (request sent → last byte read). *Store* is the heap after GC with the
store filled minus before. Issue 17's target: \`GET /apis/metrics.k8s.io/v1beta1/pods\` p99 ≤ 1 s at 150,000 pods.
Reproduce: \`node --expose-gc --import tsx bench/extras/metrics-api.ts\`.

${metricsApi}

## Live view (\`/ui/api/snapshot\`)

The live view's store fed with 5,000 simulated nodes × 30 pods (150,000 pods, decoded as the \`kubelet_summary\`
source decodes them, through the \`rate\` and \`aggregate\` processors), 4 measured cycles after a first one;
then the page's request over real HTTP on loopback, one at a time. *Tap* is the store's time per cycle for every
event the processors emit; *store* is the heap after GC with the store filled minus before it (the pod names it keeps alive included). Issue 20's target:
the page stays responsive at this size. Reproduce (or smaller, with \`--nodes 100\`):
\`node --expose-gc --import tsx bench/extras/live-view.ts\`.

${liveView}

## Worker hand-off (an estimate for worker threads)

What it would cost to run the per-node work (decode, rate, pod and namespace enrichment, pod and node sums) on a
worker thread and hand each finished node batch to the main thread, in one thread on simulated cycles: *serialize*
is the worker's extra cost and *deserialize* the main thread's, with the V8 serializer \`postMessage\` uses, either
with each set's values as a record or with the batch's values packed into one typed buffer of catalogue rows (which
\`postMessage\` could transfer); *labels only* is the sets' keys and labels alone; *JSON Lines text* is the encoding
of the batch, for a design where workers also encode. Reproduce:
\`npx tsx bench/extras/worker-handoff.ts --nodes 200 --pods-per-node 30\`.

${handoff}

## Disk buffer

A sink's disk buffer alone (\`buffer.type: disk\`, \`sync: every_batch\`, no pipeline, no sink) on 300 node batches
of the real \`nri-1.34\` payload in binary records, median of 5 rounds: *in* offers them as scrapes would with no
reader, until all are written and flushed (a sink that is down); *keeps up* does the same with a reader taking and
acknowledging each as it is offered, until all are written and flushed (a sink that keeps up: events from memory); *out (replay)* closes the buffer of *in*,
opens it again and reads them all back from the files (a restart after an outage). MB are the records' bytes; CPU is
the process's, user and system. Reproduce: \`npx tsx bench/extras/disk-buffer.ts\`.

${diskBuffer}

## File sink

Real kubelet payloads (\`fixtures/kubelet/nri-1.34\`, 20 nodes a cycle, values moved by up to 1 % each cycle so the
files do not compress like copies) written through the \`file\` sink with its default settings; only the sink's
calls are timed, including the close that encodes the last row groups. *bytes/value* is the size of the completed
files per metric value (plain and labeled). Reproduce: \`npx tsx bench/extras/file-sink.ts\`.

${fileSink}

## Object storage (S3)

A real S3 server on loopback (SeaweedFS \`weed mini\`, signatures checked): *S3 client* puts random bytes with single
PUTs and multipart uploads; *file sink → S3* is the file sink above with \`path: s3://…\` (files rolled at 8 MiB,
uploaded whole when completed), only the sink's calls timed, uploads included; MiB/s is object bytes per second of
that time. Reproduce: \`npx tsx bench/extras/file-sink-s3.ts\`.

${objectStorage}

### Into an Iceberg table

The file sink with \`table: { format: iceberg }\` on the same server (its S3 and its Iceberg REST catalog): each
round writes 4 cycles of 20 real node batches (nri-1.34) and closes the sink, which uploads the round's Parquet files
and commits them as one snapshot. *rows/s end to end* counts encoding, upload and commit; *commit* is the catalog's
commit request alone. Reproduce: \`npx tsx bench/extras/iceberg-table.ts\`.

${icebergTable}

## Prometheus text parsing

The real kubelet 1.27 \`/metrics/cadvisor\` capture (\`fixtures/prometheus/\`), median of 25 runs after 10 warm-up
runs: *reader* is the tokenizer alone (every sample's name, labels and value); *decode* is the whole
\`kubelet_prometheus\` decoding into metric sets; the *JSON.parse floor* parses the same samples written as JSON.
Reproduce: \`npx tsx bench/extras/prometheus-parse.ts\`.

${prometheus}
`;
}

/** Three sharded collectors and a second tier against one process, at 300 × 30 (see bench/sharded.ts). */
function measureShardedSize() {
  return measureSharded({
    nodes: 300,
    podsPerNode: 30,
    resolutionMs: 10_000,
    cycles: positiveInteger('cycles', args.cycles),
    replicas: 3,
    seed: positiveInteger('seed', args.seed),
    progress,
  });
}

/**
 * Pairs of 1,000 × 30 runs, memory buffer then disk buffer, for issue 18's ratio: on a shared machine one pair can
 * be off by a third either way (the simulator's own CPU moves with it), so the target takes the median of the
 * pairs' ratios. The first pair is the sizes' own rows.
 */
const DISK_PAIRS = 5;
const MEMORY_SIZE: Size = { nodes: 1000, podsPerNode: 30, resolution: '15s' };
const DISK_SIZE: Size = { ...MEMORY_SIZE, diskBuffer: true };

/** Each size in its own process: a fresh heap, JIT and peak RSS, so one size's numbers never leak into the next. */
async function runAll(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heapstream-bench-'));
  const results: SizeResult[] = [];
  const pairs: DiskPair[] = [];
  try {
    for (const [i, s] of SIZES.entries()) results.push(await runSizeProcess(dir, i, s));
    const memory = results.find((r) => r.nodes === 1000 && !r.jsonl && !r.diskBuffer);
    const disk = results.find((r) => r.nodes === 1000 && r.diskBuffer);
    if (memory !== undefined && disk !== undefined) pairs.push({ memory, disk });
    for (let p = 1; p < DISK_PAIRS; p++) {
      progress(`disk buffer pair ${p + 1}/${DISK_PAIRS}: 1,000 × 30, memory buffer then disk buffer`);
      const base = SIZES.length + 2 * p;
      pairs.push({
        memory: await runSizeProcess(dir, base, MEMORY_SIZE),
        disk: await runSizeProcess(dir, base + 1, DISK_SIZE),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const sharded = formatSharded(await measureShardedSize());
  await writeFile(DOC, await benchmarksDoc(results, pairs, `${await componentBenches()}\n${sharded}`));
  progress(`wrote docs/benchmarks.md`);
}

/** One size in a process of its own; its result comes back through a JSON file. */
async function runSizeProcess(dir: string, i: number, s: Size): Promise<SizeResult> {
  const json = join(dir, `size-${i}.json`);
  const child = spawn(
    process.execPath,
    [
      // This process's flags: the tsx loader and the V8 flags of package.json's bench script, which are the
      // ones the Docker image ships with (NODE_OPTIONS), so each size measures what users run.
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...['--nodes', String(s.nodes), '--pods-per-node', String(s.podsPerNode)],
      ...['--resolution', s.resolution, '--cycles', s.cycles ?? args.cycles],
      ...['--timeout', s.timeout ?? args.timeout, '--json', json],
      ...(s.jsonl === true ? ['--jsonl'] : []),
      ...(s.workers === undefined ? [] : ['--workers', s.workers]),
      ...(s.diskBuffer === true ? ['--disk-buffer', join(dir, `buffer-${i}`)] : []),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) progress(`${s.nodes}×${s.podsPerNode} ended with code ${String(code)}`);
  return JSON.parse(await readFile(json, 'utf8')) as SizeResult;
}

async function benchmarksDoc(
  results: readonly SizeResult[],
  pairs: readonly DiskPair[],
  components: string,
): Promise<string> {
  const notes = await readFile(NOTES, 'utf8').catch(() => '');
  return `# Benchmarks

Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}; do not edit by hand (the notes at the end
come from \`bench/NOTES.md\`).

**Machine:** ${describeMachine()}. The simulator runs in its own process on the same cores; its CPU is reported
apart and is not part of the pipeline's.

**What runs:** the simulator (\`bench/simulator.ts\`: one fake kubelet per loopback address, one port, payloads
rendered from the real captures in \`shared/fixtures\` with advancing counters, no container restarts) and, in the
bench process, the real pipeline: \`kubelet_summary\` over HTTP → \`rate\` → \`pod_enricher\` → \`namespace_enricher\`
→ \`aggregate\` (pod, namespace, node, cluster) → \`node_enricher\` → a sink that only counts (the *JSON Lines* row
adds the \`stdout\` sink in its \`jsonl\` format, writing to /dev/null). Metadata for the
enrichers is built in the bench process from the simulator's options (same seed, so the same pod names and uids).
Each size runs one warm-up cycle (no rates yet; JIT, connections) and then the measured cycles, in its own
process with \`--max-semi-space-size=64\`, as the Docker image runs heapstream.

**How to read it:** *pipeline CPU* is this process's user + system CPU from one cycle end to the next (so it
includes HTTP, parsing, every processor, the engine and the counting sink); *floor* is the CPU of \`JSON.parse\`
alone on one cycle's payloads (per payload, the median of three parses) fetched from the same simulator in the
same run, so *pipeline ÷ floor* says how much work the pipeline does beyond the unavoidable parse. Latencies are from the tick (the wall-clock boundary of the
cycle) to the sink receiving the batch; p99 over a few cycles is their maximum. *Peak heap* includes garbage not yet
collected (V8 lets the old generation grow to a few times what is live). *Live heap* is measured after a full GC
(heap plus array buffers): first once the bench's metadata is built (every pod looked up once), then what the
pipeline keeps between cycles (rate state, aggregation, connections; measured before the last cycle), also per
metric set of a cycle.

${formatResults(results)}
**Targets** (issue 16; the disk buffer's, issue 18), checked against the tables above:

${formatTargets(results, pairs)}

${formatDiskPairs(pairs)}

Reproduce one size: \`npm run bench -- --nodes 1000 --pods-per-node 30\` (add \`--cpu-prof out.cpuprofile\` for a
profile of the measured cycles).

${components}
${notes}`;
}

if (args.extras) process.stdout.write(`${await componentBenches()}`);
else if (args.sharded) process.stdout.write(formatSharded(await measureShardedSize()));
else if (args.soak !== undefined) await runSoakOnce(args.soak);
else if (args.nodes === undefined) await runAll();
else await runOne();
