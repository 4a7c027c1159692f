/**
 * Sharded collectors against one process, on this machine: the same simulated cluster scraped (a) by one
 * `heapstream run` that aggregates namespaces and the cluster itself, and (b) by three `heapstream run`
 * collectors sharding it through a Kafka consumer group plus a second tier (kafka source → aggregate), all real
 * CLI child processes. Measures the CPU of the heapstream processes per node scrape (the broker's and the
 * simulator's apart, not counted) and the latency from the tick to the cluster set leaving the last process.
 *
 *   npx tsx bench/sharded.ts [--nodes 300] [--pods-per-node 30] [--cycles 4] [--resolution 10s] [--replicas 3]
 *   npm run bench -- --sharded          the same, as the section of docs/benchmarks.md prints it
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../src/component/duration.js';
import type { NodeTarget } from '../src/component/node-target.js';
import { startKafka, type KafkaService } from '../test/services/kafka.js';
import { childCpuSeconds, percentile } from './measure.js';
import { startSimulatorProcess } from './simulator-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

export interface ShardedOptions {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly resolutionMs: number;
  /** Measured cycles, after the warm-up (all collectors holding partitions, rates present). */
  readonly cycles: number;
  readonly replicas: number;
  readonly seed: number;
  readonly progress: (line: string) => void;
}

/** One way of running the cluster: its processes' CPU and the tick → cluster set latency. */
export interface TopologyResult {
  readonly label: string;
  readonly processes: number;
  /** CPU seconds per cycle of the scraping processes (the single process, or the collectors together). */
  readonly scrapeCpuPerCycle: number;
  /** CPU seconds per cycle of the second tier; 0 for the single process. */
  readonly tierCpuPerCycle: number;
  /** All heapstream processes' CPU per node scrape, in ms. */
  readonly cpuMsPerNodeScrape: number;
  readonly latencyP50: number;
  readonly latencyMax: number;
  readonly cycles: number;
  /** Measured cycles whose cluster set reported fewer nodes than expected. */
  readonly incomplete: number;
}

export interface ShardedResult {
  readonly options: Omit<ShardedOptions, 'progress'>;
  readonly single: TopologyResult;
  readonly sharded: TopologyResult;
}

/** A heapstream process; its stdout's cluster set lines (stdout sink, jsonl) are handed to `onLine`. */
function runPipeline(file: string, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', '--import', 'tsx', MAIN, 'run', '-c', file],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => onLine?.(line));
  return child;
}

/** Cluster set lines as they come: the tick time, the arrival time, and whether every node was summed. */
class ClusterLines {
  readonly seen: { tick: number; at: number; complete: boolean }[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly nodes: number) {}

  readonly onLine = (line: string): void => {
    if (!line.startsWith('{')) return;
    const set = JSON.parse(line) as { time: string; type: string; values: Record<string, number> };
    if (set.type !== 'cluster') return;
    const complete =
      set.values.nodes_reporting === this.nodes && typeof set.values['cpu/usage_rate'] === 'number';
    this.seen.push({ tick: Date.parse(set.time), at: Date.now(), complete });
    for (const wake of this.waiters.splice(0)) wake();
  };

  /** Resolves once `test` holds of what has come, or rejects after `ms`. */
  async until(what: string, test: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`bench: gave up waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1_000);
      });
    }
  }
}

/** Waits for a complete cycle (warm-up), then measures `cycles` more: CPU of each pid group, latencies. */
async function measure(
  label: string,
  lines: ClusterLines,
  scrapers: readonly ChildProcess[],
  tier: ChildProcess | undefined,
  options: ShardedOptions,
): Promise<TopologyResult> {
  const cpu = (children: readonly ChildProcess[]) =>
    children.reduce((sum, c) => sum + childCpuSeconds(c.pid), 0);
  const waitMs = options.resolutionMs * (options.cycles + 8) + 60_000;
  await lines.until(`${label}: a complete cycle`, () => lines.seen.some((s) => s.complete), waitMs);
  const start = lines.seen.length;
  const [scrape0, tier0] = [cpu(scrapers), cpu(tier === undefined ? [] : [tier])];
  options.progress(`${label}: measuring ${options.cycles} cycles`);
  await lines.until(
    `${label}: ${options.cycles} cycles`,
    () => lines.seen.length >= start + options.cycles,
    waitMs,
  );
  const scrapeCpu = (cpu(scrapers) - scrape0) / options.cycles;
  const tierCpu = tier === undefined ? 0 : (cpu([tier]) - tier0) / options.cycles;
  const measured = lines.seen.slice(start, start + options.cycles);
  const latencies = measured.map((s) => (s.at - s.tick) / 1000);
  return {
    label,
    processes: scrapers.length + (tier === undefined ? 0 : 1),
    scrapeCpuPerCycle: scrapeCpu,
    tierCpuPerCycle: tierCpu,
    cpuMsPerNodeScrape: ((scrapeCpu + tierCpu) * 1000) / options.nodes,
    latencyP50: percentile(latencies, 50),
    latencyMax: Math.max(...latencies),
    cycles: measured.length,
    incomplete: measured.filter((s) => !s.complete).length,
  };
}

function staticNodes(nodes: readonly NodeTarget[]): string {
  return nodes.map((n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`).join('\n');
}

function collectorYaml(
  options: ShardedOptions,
  nodes: readonly NodeTarget[],
  shard: { kafka: string; id: string } | undefined,
): string {
  const head = [
    `resolution: ${options.resolutionMs}ms`,
    'source:',
    '  type: kubelet_summary',
    '  scheme: http',
    '  timeout: 5s',
    '  discovery:',
    '    static:',
    staticNodes(nodes),
  ];
  const sharding =
    shard === undefined
      ? []
      : [
          '  sharding:',
          `    brokers: [${shard.kafka}]`,
          `    topic: bench-shards-${shard.id}`,
          `    group_id: bench-collectors-${shard.id}`,
          '    partitions: 12',
          '    session_timeout: 3s',
          '    heartbeat_interval: 500ms',
        ];
  const levels = shard === undefined ? '[pod, namespace, node, cluster]' : '[pod, node]';
  const sink =
    shard === undefined
      ? ['  out:', '    type: stdout', '    format: jsonl', '    select: { types: [cluster] }']
      : [
          '  backbone:',
          '    type: kafka',
          `    brokers: [${shard.kafka}]`,
          `    topic: bench-batches-${shard.id}`,
          '    format: batch',
          '    select: { types: [node, sys_container, pod, pod_container] }',
        ];
  return [
    ...head,
    ...sharding,
    'processors:',
    '  - type: rate',
    '  - type: aggregate',
    `    levels: ${levels}`,
    'sinks:',
    ...sink,
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

function tierYaml(options: ShardedOptions, kafka: string, id: string): string {
  return [
    `resolution: ${options.resolutionMs}ms`,
    'source:',
    '  type: kafka',
    `  brokers: [${kafka}]`,
    `  topic: bench-batches-${id}`,
    `  group_id: bench-tier-${id}`,
    `  cycle_deadline: ${options.resolutionMs * 2}ms`,
    'processors:',
    '  - type: aggregate',
    '    levels: [namespace, cluster]',
    'sinks:',
    '  out:',
    '    type: stdout',
    '    format: jsonl',
    '    select: { types: [cluster] }',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

/**
 * Runs the single process, then the sharded topology, over one simulator process.
 *
 * @example
 * const result = await measureSharded({ nodes: 300, podsPerNode: 30, resolutionMs: 10_000, cycles: 4, replicas: 3, seed: 1, progress });
 */
export async function measureSharded(options: ShardedOptions): Promise<ShardedResult> {
  const dir = await mkdtemp(join(tmpdir(), 'heapstream-bench-sharded-'));
  const simulator = await startSimulatorProcess(options);
  const children: ChildProcess[] = [];
  let kafka: KafkaService | undefined;
  const stopAll = async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    options.progress(`single process: ${options.nodes} × ${options.podsPerNode}`);
    const singleFile = join(dir, 'single.yaml');
    await writeFile(singleFile, collectorYaml(options, simulator.nodes, undefined));
    const singleLines = new ClusterLines(options.nodes);
    const single = runPipeline(singleFile, singleLines.onLine);
    children.push(single);
    const singleResult = await measure('single process', singleLines, [single], undefined, options);
    await stopAll();

    kafka = await startKafka({ groupMinSessionTimeoutMs: 1_000 });
    const id = String(Date.now());
    options.progress(`sharded: ${options.replicas} collectors + second tier, broker ${kafka.bootstrap}`);
    const tierFile = join(dir, 'tier.yaml');
    await writeFile(tierFile, tierYaml(options, kafka.bootstrap, id));
    const tierLines = new ClusterLines(options.nodes);
    const tier = runPipeline(tierFile, tierLines.onLine);
    children.push(tier);
    const collectors: ChildProcess[] = [];
    for (let i = 0; i < options.replicas; i++) {
      const file = join(dir, `collector-${i}.yaml`);
      await writeFile(file, collectorYaml(options, simulator.nodes, { kafka: kafka.bootstrap, id }));
      collectors.push(runPipeline(file));
    }
    children.push(...collectors);
    const label = `${options.replicas} collectors + second tier`;
    const shardedResult = await measure(label, tierLines, collectors, tier, options);
    await stopAll();
    const { progress: _progress, ...kept } = options;
    return { options: kept, single: singleResult, sharded: shardedResult };
  } finally {
    await stopAll();
    await kafka?.stop();
    await simulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The section of docs/benchmarks.md. */
export function formatSharded(result: ShardedResult): string {
  const o = result.options;
  const row = (r: TopologyResult) =>
    `| ${r.label} | ${r.processes} | ${r.scrapeCpuPerCycle.toFixed(2)} | ${r.tierCpuPerCycle.toFixed(2)} | ` +
    `${r.cpuMsPerNodeScrape.toFixed(3)} | ${r.latencyP50.toFixed(2)}, ${r.latencyMax.toFixed(2)} | ${r.cycles} | ${r.incomplete} |`;
  return `## Sharded collectors

${o.nodes} × ${o.podsPerNode} nodes × pods at a ${o.resolutionMs / 1000} s resolution, ${o.cycles} measured cycles
after a complete one, on this machine: one \`heapstream run\` (\`rate\`, \`aggregate\` of every level, cluster sets
to stdout) against ${o.replicas} collectors sharding the same simulator through a Kafka consumer group (\`rate\`,
\`aggregate\` of pods and nodes, a \`kafka\` sink with \`format: batch\`) and one second tier (\`kafka\` source,
\`aggregate\` of namespaces and the cluster, cluster sets to stdout), each a child process. *CPU per node scrape*
counts every heapstream process (not the broker's JVM, not the simulator); latency is from the tick to the
cluster set on the last process's stdout. Reproduce: \`npm run bench -- --sharded\` (or \`npx tsx bench/sharded.ts
--nodes 300 --pods-per-node 30\`).

| topology | processes | scraping CPU s / cycle | second tier CPU s / cycle | CPU ms / node scrape | tick → cluster set p50, max (s) | cycles | incomplete |
| --- | --- | --- | --- | --- | --- | --- | --- |
${row(result.single)}
${row(result.sharded)}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '300' },
      'pods-per-node': { type: 'string', default: '30' },
      cycles: { type: 'string', default: '4' },
      resolution: { type: 'string', default: '10s' },
      replicas: { type: 'string', default: '3' },
    },
  });
  const resolutionMs = parseDuration(values.resolution);
  if (resolutionMs === undefined)
    throw new Error(`--resolution: a duration such as 10s, not ${values.resolution}`);
  const result = await measureSharded({
    nodes: Number(values.nodes),
    podsPerNode: Number(values['pods-per-node']),
    cycles: Number(values.cycles),
    resolutionMs,
    replicas: Number(values.replicas),
    seed: 1,
    progress: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  process.stdout.write(formatSharded(result));
}
