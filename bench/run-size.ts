import { createBuiltinRegistry } from '../src/builtins.js';
import { createLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { parsePipelineConfig } from '../src/config/index.js';
import type { NodeTarget } from '../src/component/node-target.js';
import type { Telemetry } from '../src/component/telemetry.js';
import { countingSink, type CycleCount } from './counting-sink.js';
import { jsonlToDevNull } from './jsonl-sink.js';
import { measureParseFloor, type Floor } from './floor.js';
import {
  childCpuSeconds,
  fullGc,
  liveHeapBytes,
  median,
  MemorySampler,
  percentile,
  processCpuSeconds,
  mainThreadCpuSeconds,
} from './measure.js';
import { CpuProfiler, type HotFunction } from './profile.js';
import { simulatedClusterMetadata } from './sim-metadata.js';
import { startSimulatorProcess } from './simulator-process.js';

export interface SizeOptions {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly resolutionMs: number;
  /** Cycles measured after the warm-up cycle (which has no rates yet and pays for JIT and connections). */
  readonly cycles: number;
  readonly seed: number;
  /** Deadline of one node scrape. */
  readonly timeoutMs: number;
  /** Scrapes in flight at once (the source's `concurrency`); the source's default if absent. */
  readonly concurrency?: number;
  /** Also write every batch to a file sink (Parquet) under this directory. */
  readonly fileSink?: string;
  /** Also encode every batch as JSON Lines through the stdout sink, written to /dev/null. */
  readonly jsonl?: boolean;
  /** Buffer the counting sink on disk in this directory (`buffer.type: disk`) instead of in memory. */
  readonly diskBuffer?: string;
  /** The pipeline's `workers:` (decode threads); 0 when absent. */
  readonly workers?: number | 'auto';
  /** Write a CPU profile of the measured cycles here. */
  readonly cpuProfile?: string;
  /** Progress lines (one per cycle). */
  readonly progress: (line: string) => void;
}

/** One measured cycle: what the sink counted, and the CPU both processes spent from the previous cycle's end. */
export interface CycleSample {
  readonly count: CycleCount;
  readonly cpuSeconds: number;
  /** Of cpuSeconds, the main thread's (the rest is V8's and libuv's helper threads). */
  readonly mainThreadCpuSeconds: number;
  readonly simulatorCpuSeconds: number;
  /** ms from the tick to the cycle end mark reaching the sink. */
  readonly endLatency: number;
}

export interface SizeResult {
  readonly nodes: number;
  /** Whether every batch was also written as JSON Lines (to /dev/null). */
  readonly jsonl: boolean;
  /** Whether the counting sink was buffered on disk. */
  readonly diskBuffer: boolean;
  /** The pipeline's `workers:` setting. */
  readonly workers: number | 'auto';
  readonly podsPerNode: number;
  readonly resolutionMs: number;
  readonly cycles: readonly CycleSample[];
  readonly pods: number;
  readonly containers: number;
  readonly setsPerCycle: number;
  readonly valuesPerCycle: number;
  /** Per cycle: ms from the tick to its last node batch, and to its cluster batch. */
  readonly lastNodeMs: readonly number[];
  readonly clusterMs: readonly number[];
  /** Every node batch of the measured cycles: ms from the tick to its delivery. */
  readonly nodeBatchP50Ms: number;
  readonly nodeBatchP99Ms: number;
  readonly cpuPerCycle: number;
  readonly cpuPerCycleMax: number;
  /** Of cpuPerCycle, the main thread's. */
  readonly mainThreadCpuPerCycle: number;
  /** Over the measured cycles: CPU per node that answered, and values per CPU-second (right even if cycles overlap). */
  readonly cpuPerScrapeMs: number;
  readonly valuesPerCpuSecond: number;
  readonly simulatorCpuPerCycle: number;
  readonly peakRssBytes: number;
  readonly peakHeapBytes: number;
  /** Live heap and array buffers (after a full GC) once the metadata is built and warm, before the first cycle. */
  readonly startHeapBytes: number;
  /** Live heap before the last cycle minus startHeapBytes: the state the pipeline keeps between cycles. */
  readonly retainedHeapBytes: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly unenrichedContainers: number;
  readonly floor: Floor;
  readonly wallSeconds: number;
  readonly hot?: readonly HotFunction[];
}

const WARMUP_CYCLES = 1;
const SUMMARY_PATH = '/stats/summary';
const WATCHDOG_MS = 9 * 60_000;

/**
 * Runs one size: the simulator in its own process, the real pipeline (kubelet_summary → rate → pod_enricher →
 * namespace_enricher → aggregate → node_enricher → counting sink) in this one, for the warm-up cycle plus
 * `cycles`, then the JSON.parse floor on the same simulator.
 *
 * @example
 * const result = await runSize({ nodes: 100, podsPerNode: 30, resolutionMs: 5000, cycles: 4, seed: 1, timeoutMs: 10_000, progress: console.error });
 */
export async function runSize(options: SizeOptions): Promise<SizeResult> {
  const label =
    `${options.nodes}×${options.podsPerNode}${options.jsonl === true ? ' jsonl' : ''}` +
    `${options.diskBuffer === undefined ? '' : ' disk buffer'}` +
    `${(options.workers ?? 0) === 0 ? '' : ` workers ${options.workers}`}`;
  const started = Date.now();
  options.progress(
    `[${label}] starting the simulator (${options.nodes} nodes, ${options.podsPerNode} pods each)`,
  );
  const simulator = await startSimulatorProcess(options);
  try {
    const metadata = simulatedClusterMetadata(options);
    const warmPods = metadata.warm();
    if (warmPods !== options.nodes * options.podsPerNode) {
      throw new Error(`metadata knows ${warmPods} pods, expected ${options.nodes * options.podsPerNode}`);
    }
    const gc = fullGc();
    const startHeapBytes = liveHeapBytes(gc);
    let endHeapBytes = NaN;
    const memory = new MemorySampler().start();
    const samples: CycleSample[] = [];
    let profiler: Promise<CpuProfiler> | undefined;
    let lastCpu = processCpuSeconds();
    let lastMainCpu = mainThreadCpuSeconds();
    let lastSimCpu = childCpuSeconds(simulator.pid);
    const total = WARMUP_CYCLES + options.cycles;
    let seen = 0;
    const onCycle = (count: CycleCount): void => {
      const now = Date.now();
      const cpu = processCpuSeconds();
      const mainCpu = mainThreadCpuSeconds();
      const simCpu = childCpuSeconds(simulator.pid);
      const sample: CycleSample = {
        count,
        cpuSeconds: cpu - lastCpu,
        mainThreadCpuSeconds: mainCpu - lastMainCpu,
        simulatorCpuSeconds: simCpu - lastSimCpu,
        endLatency: now - count.tick,
      };
      lastCpu = cpu;
      lastMainCpu = mainCpu;
      lastSimCpu = simCpu;
      seen++;
      const warm = seen <= WARMUP_CYCLES;
      if (!warm) samples.push(sample);
      // What the pipeline keeps between cycles (rate state, connections…), measured once while it still runs
      // (after the last cycle its subscription and state are gone), with the GC's own CPU left out of the next cycle.
      if (seen === total - 1) {
        endHeapBytes = liveHeapBytes(gc);
        lastCpu = processCpuSeconds();
        lastMainCpu = mainThreadCpuSeconds();
      }
      if (seen === WARMUP_CYCLES && options.cpuProfile !== undefined) profiler = CpuProfiler.start();
      options.progress(
        `[${label}] cycle ${seen}/${total}${warm ? ' (warm-up)' : ''}: ${describeCycle(sample)}`,
      );
    };
    const { definition } = countingSink(Date.now, onCycle);
    const registry = createBuiltinRegistry().register(definition).register(jsonlToDevNull());
    const config = parsePipelineConfig(pipelineYaml(options, simulator.nodes), 'bench.yaml', registry, {});
    const pipeline = createPipeline(config, {
      registry,
      logger: createLogger({ level: 'warn' }),
      cycles: total,
      metadata,
      immediateFirstCycle: false,
    });
    options.progress(
      `[${label}] simulator ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `first tick on the next ${options.resolutionMs / 1000} s boundary`,
    );
    // Every size must finish within ten minutes: stop scraping (then drain) rather than run on silently.
    const watchdog = setTimeout(() => {
      options.progress(`[${label}] still running after ${WATCHDOG_MS / 60_000} min: stopping the pipeline`);
      pipeline.abort();
    }, WATCHDOG_MS);
    try {
      await pipeline.run();
    } finally {
      clearTimeout(watchdog);
    }
    memory.stop();
    if (options.diskBuffer !== undefined)
      options.progress(`[${label}] ${describeDiskBuffer(pipeline.telemetry)}`);
    const hot = profiler === undefined ? undefined : await (await profiler).stop(options.cpuProfile!);
    options.progress(`[${label}] measuring the JSON.parse floor on one cycle of payloads`);
    const floor = await measureParseFloor(simulator.nodes, SUMMARY_PATH);
    const heap = { start: startHeapBytes, end: endHeapBytes };
    return summarise(options, samples, memory, heap, floor, (Date.now() - started) / 1000, hot);
  } finally {
    await simulator.stop();
  }
}

/** The bench pipeline's file: the simulator's nodes, every processor, the counting sink (and a file sink). */
export function pipelineYaml(
  options: Omit<SizeOptions, 'cycles' | 'progress'>,
  nodes: readonly NodeTarget[],
): string {
  const statics = nodes
    .map((n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`)
    .join('\n');
  const file =
    options.fileSink === undefined
      ? ''
      : `  lake:\n    type: file\n    path: ${JSON.stringify(options.fileSink)}\n    buffer: { max_batches: 100000 }\n`;
  const jsonl =
    options.jsonl === true ? `  jsonl:\n    type: bench_jsonl\n    buffer: { max_batches: 100000 }\n` : '';
  // The disk buffer is big enough never to fill: what is measured is its cost in the path, not a policy.
  const countBuffer =
    options.diskBuffer === undefined
      ? '    buffer: { max_batches: 100000 }'
      : `    buffer: { type: disk, path: ${JSON.stringify(options.diskBuffer)}, max_size: 8589934592 }`;
  return `resolution: ${options.resolutionMs}ms
workers: ${options.workers ?? 0}
source:
  type: kubelet_summary
  scheme: http
  timeout: ${options.timeoutMs}ms
${options.concurrency === undefined ? '' : `  concurrency: ${options.concurrency}\n`}  discovery:
    static:
${statics}
processors:
  - type: rate
  - type: pod_enricher
  - type: namespace_enricher
  - type: aggregate
    levels: [pod, namespace, node, cluster]
  - type: node_enricher
sinks:
  count:
    type: bench_count
${countBuffer}
${file}${jsonl}log:
  level: warn
`;
}

function describeCycle(sample: CycleSample): string {
  const c = sample.count;
  const failures = [...c.failures].map(([reason, n]) => `${n} ${reason}`).join(', ');
  const last = c.nodeLatencies.length === 0 ? NaN : Math.max(...c.nodeLatencies);
  return (
    `${c.nodesAnswered}/${c.nodesExpected} nodes${failures === '' ? '' : ` (${failures})`}, ` +
    `${c.values.toLocaleString('en-US')} values, tick→last node ${(last / 1000).toFixed(2)} s, ` +
    `→cluster ${(c.clusterLatency / 1000).toFixed(2)} s, pipeline CPU ${sample.cpuSeconds.toFixed(2)} s ` +
    `(main thread ${sample.mainThreadCpuSeconds.toFixed(2)} s), ` +
    `simulator CPU ${sample.simulatorCpuSeconds.toFixed(2)} s`
  );
}

/**
 * What the counting sink's disk buffer did over the whole run (warm-up included): records and bytes written, and
 * how many records the sink got from memory and how many were read back from the files.
 */
function describeDiskBuffer(telemetry: Telemetry): string {
  const value = (name: string, labels: Record<string, string> = {}): number =>
    telemetry.value(name, { sink: 'count', ...labels });
  const records = value('heapstream_buffer_records_written_total');
  const bytes = value('heapstream_buffer_bytes_written_total');
  return (
    `disk buffer: ${records} records written, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / Math.max(1, records) / 1000).toFixed(1)} KB a record); ` +
    `read ${value('heapstream_buffer_records_read_total', { from: 'memory' })} from memory, ` +
    `${value('heapstream_buffer_records_read_total', { from: 'disk' })} back from the files`
  );
}

function summarise(
  options: SizeOptions,
  samples: readonly CycleSample[],
  memory: MemorySampler,
  heap: { start: number; end: number },
  floor: Floor,
  wallSeconds: number,
  hot: readonly HotFunction[] | undefined,
): SizeResult {
  const counts = samples.map((s) => s.count);
  const failures: Record<string, number> = {};
  for (const c of counts)
    for (const [reason, n] of c.failures) failures[reason] = (failures[reason] ?? 0) + n;
  const cpu = samples.map((s) => s.cpuSeconds);
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    nodes: options.nodes,
    jsonl: options.jsonl === true,
    diskBuffer: options.diskBuffer !== undefined,
    workers: options.workers ?? 0,
    podsPerNode: options.podsPerNode,
    resolutionMs: options.resolutionMs,
    cycles: samples,
    pods: median(counts.map((c) => c.podSets)),
    containers: median(counts.map((c) => c.containerSets)),
    setsPerCycle: median(counts.map((c) => c.sets)),
    valuesPerCycle: median(counts.map((c) => c.values)),
    lastNodeMs: counts.map((c) => Math.max(...c.nodeLatencies)),
    clusterMs: counts.map((c) => c.clusterLatency),
    nodeBatchP50Ms: percentile(
      counts.flatMap((c) => c.nodeLatencies),
      50,
    ),
    nodeBatchP99Ms: percentile(
      counts.flatMap((c) => c.nodeLatencies),
      99,
    ),
    cpuPerCycle: sum(cpu) / Math.max(1, cpu.length),
    cpuPerCycleMax: Math.max(...cpu),
    mainThreadCpuPerCycle: sum(samples.map((s) => s.mainThreadCpuSeconds)) / Math.max(1, samples.length),
    cpuPerScrapeMs: (1000 * sum(cpu)) / Math.max(1, sum(counts.map((c) => c.nodesAnswered))),
    valuesPerCpuSecond: sum(counts.map((c) => c.values)) / sum(cpu),
    simulatorCpuPerCycle: sum(samples.map((s) => s.simulatorCpuSeconds)) / Math.max(1, samples.length),
    peakRssBytes: memory.peakRss,
    peakHeapBytes: memory.peakHeapUsed,
    startHeapBytes: heap.start,
    retainedHeapBytes: heap.end - heap.start,
    failures,
    unenrichedContainers: sum(counts.map((c) => c.unenrichedContainers)),
    floor,
    wallSeconds,
    ...(hot === undefined ? {} : { hot }),
  };
}
