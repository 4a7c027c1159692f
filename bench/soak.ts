import { createBuiltinRegistry } from '../src/builtins.js';
import { createLogger } from '../src/component/logger.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { parsePipelineConfig } from '../src/config/index.js';
import { countingSink, type CycleCount } from './counting-sink.js';
import { fullGc, liveHeapBytes, MemorySampler } from './measure.js';
import { pipelineYaml, type SizeOptions } from './run-size.js';
import { simulatedClusterMetadata } from './sim-metadata.js';
import { startSimulatorProcess } from './simulator-process.js';

export interface SoakOptions extends Omit<SizeOptions, 'cycles' | 'cpuProfile'> {
  /** How long the pipeline runs. */
  readonly durationMs: number;
  /** How often memory is sampled and a progress line printed. */
  readonly sampleEveryMs: number;
}

/** Memory at one moment of the soak. */
export interface SoakSample {
  readonly elapsedMs: number;
  readonly cycles: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Heap plus array buffers right after a full GC: what the pipeline really keeps. */
  readonly liveHeapBytes: number;
}

export interface SoakResult {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly resolutionMs: number;
  readonly durationMs: number;
  readonly cycles: number;
  readonly scrapesOk: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly samples: readonly SoakSample[];
  /** Largest RSS seen (sampled every 100 ms). */
  readonly maxRssBytes: number;
  /** Least-squares slopes over the samples after the first (which still holds start-up: JIT, connections). */
  readonly rssSlopeMbPerHour: number;
  readonly liveHeapSlopeMbPerHour: number;
}

const MB = 1024 * 1024;
const HOUR_MS = 3_600_000;

/**
 * Runs the bench pipeline (the simulator in its own process; kubelet_summary → rate → enrichers → aggregate →
 * counting sink in this one) for `durationMs`, sampling RSS, heap and live heap at the first cycle end of every
 * `sampleEveryMs`, to tell a leak from a plateau: a flat RSS over an hour at 1,000 nodes is the claim this checks.
 *
 * @example
 * const result = await runSoak({ nodes: 1000, podsPerNode: 30, resolutionMs: 15_000, timeoutMs: 10_000, seed: 1,
 *   durationMs: 3_600_000, sampleEveryMs: 60_000, progress: console.error });
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const label = `soak ${options.nodes}×${options.podsPerNode}`;
  options.progress(`[${label}] starting the simulator`);
  const simulator = await startSimulatorProcess(options);
  try {
    const metadata = simulatedClusterMetadata(options);
    metadata.warm();
    let cycles = 0;
    let scrapesOk = 0;
    const failures: Record<string, number> = {};
    let last: CycleCount | undefined;
    // Samples are taken as a cycle ends, so that each finds the pipeline in the same phase (no batches in
    // flight): sampled at arbitrary moments, a cycle's garbage and queues add ±15 MiB of noise.
    let nextSampleAt = Infinity;
    const onCycle = (count: CycleCount): void => {
      cycles++;
      scrapesOk += count.nodesAnswered;
      for (const [reason, n] of count.failures) failures[reason] = (failures[reason] ?? 0) + n;
      last = count;
      if (Date.now() >= nextSampleAt) {
        nextSampleAt += options.sampleEveryMs;
        sample();
      }
    };
    const { definition } = countingSink(Date.now, onCycle);
    const registry = createBuiltinRegistry().register(definition);
    const config = parsePipelineConfig(pipelineYaml(options, simulator.nodes), 'soak.yaml', registry, {});
    const pipeline = createPipeline(config, {
      registry,
      logger: createLogger({ level: 'warn' }),
      metadata,
      immediateFirstCycle: false,
    });
    const gc = fullGc();
    const memory = new MemorySampler().start();
    const started = Date.now();
    const samples: SoakSample[] = [];
    function sample(): void {
      const heapUsedBytes = process.memoryUsage().heapUsed;
      const s: SoakSample = {
        elapsedMs: Date.now() - started,
        cycles,
        rssBytes: process.memoryUsage.rss(),
        heapUsedBytes,
        liveHeapBytes: liveHeapBytes(gc),
      };
      samples.push(s);
      const lastCycle =
        last === undefined ? 'no cycle yet' : `last cycle ${last.nodesAnswered}/${last.nodesExpected} nodes`;
      options.progress(
        `[${label}] ${minutes(s.elapsedMs)}: ${cycles} cycles, ${lastCycle}, RSS ${mib(s.rssBytes)}, ` +
          `heap ${mib(s.heapUsedBytes)}, live heap ${mib(s.liveHeapBytes)}`,
      );
    }
    nextSampleAt = started + options.sampleEveryMs;
    const run = pipeline.run();
    options.progress(
      `[${label}] running for ${minutes(options.durationMs)} at ${options.resolutionMs / 1000} s, ` +
        `a sample every ${minutes(options.sampleEveryMs)}`,
    );
    await Promise.race([new Promise((resolve) => setTimeout(resolve, options.durationMs)), run]);
    nextSampleAt = Infinity;
    pipeline.stop();
    await run;
    memory.stop();
    const steady = samples.length > 2 ? samples.slice(1) : samples;
    return {
      nodes: options.nodes,
      podsPerNode: options.podsPerNode,
      resolutionMs: options.resolutionMs,
      durationMs: Date.now() - started,
      cycles,
      scrapesOk,
      failures,
      samples,
      maxRssBytes: memory.peakRss,
      rssSlopeMbPerHour: slopePerHour(steady, (s) => s.rssBytes),
      liveHeapSlopeMbPerHour: slopePerHour(steady, (s) => s.liveHeapBytes),
    };
  } finally {
    await simulator.stop();
  }
}

/** MB per hour of the least-squares line through (elapsed, value); NaN for fewer than two samples. */
function slopePerHour(samples: readonly SoakSample[], value: (s: SoakSample) => number): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = samples.reduce((a, s) => a + s.elapsedMs, 0) / n;
  const meanY = samples.reduce((a, s) => a + value(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.elapsedMs - meanX) * (value(s) - meanY);
    den += (s.elapsedMs - meanX) ** 2;
  }
  return den === 0 ? NaN : ((num / den) * HOUR_MS) / MB;
}

/** The end-of-soak report: first, last and max RSS and the slopes. */
export function formatSoak(result: SoakResult): string {
  const first = result.samples[0];
  const lastSample = result.samples[result.samples.length - 1];
  const failed = Object.entries(result.failures)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  const lines = [
    `soak ${result.nodes} nodes × ${result.podsPerNode} pods at ${result.resolutionMs / 1000} s for ` +
      `${minutes(result.durationMs)}: ${result.cycles} cycles, ${result.scrapesOk.toLocaleString('en-US')} node ` +
      `scrapes ok${failed === '' ? '' : `, failed: ${failed}`}`,
    `RSS        first ${mib(first?.rssBytes)}, last ${mib(lastSample?.rssBytes)}, max ${mib(result.maxRssBytes)}; ` +
      `slope ${signed(result.rssSlopeMbPerHour)} MB/h`,
    `live heap  first ${mib(first?.liveHeapBytes)}, last ${mib(lastSample?.liveHeapBytes)}; ` +
      `slope ${signed(result.liveHeapSlopeMbPerHour)} MB/h`,
    `(slopes: least squares over the ${Math.max(0, result.samples.length - 1)} samples after the first; ` +
      `MB = MiB)`,
  ];
  return lines.join('\n');
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / MB).toFixed(0)} MiB`;
}

function signed(x: number): string {
  return Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

function minutes(ms: number): string {
  return ms >= 60_000
    ? `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min`
    : `${Math.round(ms / 1000)} s`;
}
